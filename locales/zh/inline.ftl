# 内联模式（在任何聊天里 @机器人 提问）和访客模式（在机器人不在的聊天里召唤它）。

inline-ask-title = 提问：{$question}
inline-ask-description = 答案会写进这条消息里。
inline-thinking = 思考中…
inline-button-wait = ⏳ 正在回答…
inline-wait = 答案正在写进这条消息。
inline-answer-cut = 答案超出了一条消息的长度；请在私聊中问我以获取完整内容。
guest-title = 回答
guest-usage = 请 @我 并提出问题，或回复一条消息并 @我。
guest-default-question = 这条消息怎么样？
guest-context = 所指的消息，来自 {$name}：
