# Inline mode (@bot question in any chat) and guest mode (the bot summoned into a chat it is not in).

inline-ask-title = Ask: {$question}
inline-ask-description = The answer is written into the message.
inline-thinking = Thinking…
inline-button-wait = ⏳ Answering…
inline-wait = The answer is being written into this message.
inline-answer-cut = The answer was longer than one message allows; ask me in a private chat for all of it.
guest-title = Answer
guest-usage = Mention me with a question, or reply to a message and mention me.
guest-default-question = What about this message?
guest-context = The message this refers to, by {$name}:
