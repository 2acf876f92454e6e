# 机器人自己写的文字。作为消息发送的文字可以使用 Markdown（会转换为实体）。

start =
    你好，{$name}！我是一个 AI 助手。问我任何问题，答案会边生成边显示。
    发送 /help 查看我能做什么。

help = **我能做什么**
    • 随便问：私聊时直接发消息；在群组里用 /ask、@我，或回复我的消息。
    • 发送照片或图片文件，我来描述；图片说明就是你的问题（在群组里请 @我 或使用 /ask）。
    • /image 描述：我来画一张图，并固定到 IPFS。
    • /weather 城市：该城市的当前天气，来自 Open-Meteo（也可以直接问我天气）。
    • /tokens 文字（或回复一条消息或图片）：令牌数、字符数和预计费用；加 -v 查看每个令牌。
    • /usage：你和本聊天至今用掉的令牌和预计费用。
    • /reset：清除本聊天的历史记录，重新开始（群组共享的记录仅限管理员）。
    • /system：查看本聊天的系统提示词（管理员可设置：/system 文字，或 /system reset）。
    • /settings：本聊天的模型、共用或每位成员各自的历史记录，以及语言（管理员）。
    • /help：显示本帮助。

    我会记住每个聊天（以及每个论坛话题）的对话，直到你使用 /reset。

cmd-start = 开始使用
cmd-help = 机器人能做什么
cmd-ask = 提问
cmd-reset = 清除本聊天的历史记录

ask-usage = 用法：/ask 你的问题 —— 例如：/ask 天空为什么是蓝色的？
reset-done = 好的，我已清除本聊天的历史记录。
reset-done-own = 好的，我已清除你在本聊天中的历史记录。
unknown-command = 我不认识这个命令。发送 /help 查看我能做什么。
not-text = 我能阅读文字消息、照片和图片文件，暂时还不能处理这类消息。

error-auth = AI 服务拒绝了机器人的 API 密钥，需要机器人的管理者修正配置。
error-quota = AI 服务账户余额已用完，请告知机器人的管理者。
error-rate-limit = AI 服务现在太忙（请求过多），请过一分钟再试。
error-server = AI 服务出现内部错误，请重试。
error-timeout = AI 服务响应超时，请重试。
error-interrupted = 回答因连接问题被中断，请再问一次以获取其余内容。
error-connection = 暂时无法连接 AI 服务，请稍后再试。
error-refused = AI 服务拒绝回答这个请求。
error-bad-request = AI 服务无法处理这个请求。
error-aborted = 回答已停止。
error-unexpected = 我这边出了点问题，请重试。
answer-length = 回答已达到长度上限。让我继续即可获得其余内容。
