# 文档、链接、本聊天的知识库（/learn、/knowledge、/forget）和网页搜索。

document-default-question = 总结这份文档。
document-too-big = 这个文件太大了：Telegram 只允许机器人下载最多 { $max } MB 的文件。
document-download-failed = 无法从 Telegram 下载这个文件，请重新发送。
document-encrypted = 这个 PDF 设有密码，我无法读取。请发送一份没有密码的副本。
document-corrupt = 这个文件已损坏，或与文件名所示的格式不符，我无法读取。
document-no-text = 这个 PDF 没有文字层（看起来是扫描件），没有可读的文字。请发送带文字的版本，或者发送各页的照片。
document-empty = 这个文件是空的。
document-unsupported = 我无法读取这种文件。我能读取 PDF、Word（.docx）、纯文本、Markdown、HTML、CSV、JSON 和源代码。
document-too-large = 这个文件解压后会远超一份文档应有的大小（看起来像压缩炸弹），我不会打开它。
document-too-long = 这份文档太长了：最多 { $max } 个约 500 令牌的片段。

link-invalid-url = 我只能打开 http 和 https 链接。
link-refused = 我无法打开 { $url }：它指向私有或内部网络地址。
link-not-found = 找不到网站 { $host }。
link-too-large = { $url } 的页面超过 5 MB，我没有读取。
link-timeout = { $url } 加载超过 10 秒，我放弃了。
link-redirects = { $url } 重定向次数过多，我放弃了。
link-status = { $url } 返回了错误（HTTP { $status }）。
link-network = 无法连接到 { $host }。
link-aborted = 已停止读取链接。

cmd-learn = 把文档或网页存入本聊天的知识库
cmd-knowledge = 本聊天已学习的内容
cmd-forget = 删除已学习的文档

learn-usage = 用 /learn 回复一份文档，或发送 /learn 加链接，我会把它存入本聊天的知识库。
learn-done = 已学习“{ $title }”：{ $chunks } 个片段，{ $tokens } 个令牌。从现在起，本聊天的每个问题都可以引用它。/knowledge 列出我所知道的内容。
learn-already = 我已经学习过“{ $title }”了。/knowledge 列出我所知道的内容。
learn-limit-documents = 本聊天的知识库已满（{ $max } 份文档）。请先用 /forget 删除一份。
learn-limit-chunks = 放不下了：本聊天的知识库最多容纳 { $max } 个片段，已用 { $used } 个，这份需要 { $needed } 个。请先用 /forget 删除一些。

knowledge-empty = 本聊天还没有学习任何内容。用 /learn 回复一份文档，或发送 /learn https://… 加网页链接。
knowledge-title = **本聊天已学习的内容**
knowledge-line = { $n }. { $title } — { $size }，{ $chunks } 个片段，添加于 { $date }
knowledge-hint =
    { $admin ->
        [yes] 这里的每个问题都会参考这些内容。/forget 编号（或按钮）可删除一份。
       *[no] 这里的每个问题都会参考这些内容。只有本群管理员可以添加或删除文档。
    }
knowledge-forget-button = 删除 { $n }

forget-usage = 发送 /forget 加 /knowledge 中显示的编号。
forget-not-found = 没有编号为 { $n } 的文档。/knowledge 会列出它们。
forget-done = 已删除“{ $title }”。
forget-gone = 这份文档已经被删除了。

web-search-status = 正在网上搜索“{ $query }”…
web-read-status = 正在阅读 { $site }…
