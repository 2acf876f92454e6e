# Texts the bot writes itself. Markdown is allowed where a text is sent as a message (it becomes entities).

start =
    Hi {$name}! I'm an AI assistant. Ask me anything and watch the answer arrive as it is written.
    Send /help to see what I can do.

help = **What I can do**
    • Ask anything: in a private chat just write; in groups use /ask, mention me, or reply to my message.
    • Send a photo or an image file and I describe it; its caption is your question (in groups mention me or use /ask).
    • Send a document (PDF, Word, text, Markdown, HTML, CSV, JSON, code) and ask about it; its caption is your question. Long ones are searched for the parts your question needs, and answers cite the page or section.
    • Put a link in a question and I read the page (or PDF) first.
    • /learn (as a reply to a document, or /learn https://…): keep it in this chat's knowledge for every later question; /knowledge lists it, /forget N removes one.
    • Send a voice note, an audio file or a round video: I transcribe it and answer (in groups mention me, or reply to it with /ask).
    • /transcribe as a reply to a voice note, audio or video: just the transcript.
    • /say text (or as a reply to a message): I say it in a voice message.
    • In any chat: type @{$bot} and your question, then pick "Ask"; the answer appears in that message.
    • /image description: I draw a picture and pin it to IPFS.
    • /weather city: the current weather there, from Open-Meteo (or just ask me about the weather).
    • /tokens text (or as a reply to a message or photo): tokens, characters and estimated cost; -v shows each token.
    • /usage: tokens and estimated cost so far, for you and for this chat.
    • /stop: stop the answer being written (or press its stop button); /retry (or the Regenerate button): answer the last question again.
    • /reset: forget this chat's history and start over (a group's shared history: admins only).
    • /system: show this chat's system prompt (admins set it: /system text, or /system reset).
    • /persona: pick a persona (translator, code reviewer, teacher…) from a keyboard (a group's: admins; with one history per member, each member their own).
    • /settings: model, shared or per-member history, language, and spoken answers to voice notes for this chat (admins).
    • /help: this message.

    I remember the conversation in each chat (and each forum topic) until you /reset it.

cmd-start = Start the bot
cmd-help = What the bot can do
cmd-ask = Ask a question
cmd-reset = Forget this chat's history

ask-usage = Usage: /ask your question — for example: /ask why is the sky blue?
reset-done = Done: I've forgotten this chat's history.
reset-done-own = Done: I've forgotten your history in this chat.
unknown-command = I don't know that command. Send /help to see what I can do.
not-text = I can read text messages, photos, images, documents, voice notes, audio files and round videos — not this kind of message yet.

error-auth = The AI service refused the bot's API key. The bot's owner needs to fix its configuration.
error-quota = The AI service account has run out of credit. Please tell the bot's owner.
error-rate-limit = The AI service is busy right now (too many requests). Please try again in a minute.
error-server = The AI service had an internal error. Please try again.
error-timeout = The AI service took too long to answer. Please try again.
error-interrupted = The answer was cut off by a connection problem. Ask again to get the rest.
error-connection = I can't reach the AI service right now. Please try again later.
error-refused = The AI service declined to answer this request.
error-bad-request = The AI service could not handle this request.
error-aborted = The answer was stopped.
error-unexpected = Something went wrong on my side. Please try again.
answer-length = The answer reached its length limit. Ask me to continue for the rest.
