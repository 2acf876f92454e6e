# /image：生成图片并固定到 IPFS。

cmd-image = 生成图片

image-usage = 用法：/image 想画的内容 —— 例如：/image 雪地里的一只红狐狸
image-prompt-too-long = 这段描述对图片模型来说太长了：{$length} 个字符，最多 {$max} 个。请缩短一些。
image-refused = 图片模型拒绝了这段描述（内容政策）。请换一种描述。
image-bad-answer = 图片模型没有返回可用的图片，请重试。
image-download-failed = 无法从图片服务获取图片，请重试。
image-send-failed = 图片已生成，但 Telegram 没有接受它，请重试。
image-pinning = 正在固定到 IPFS…
image-pinned = IPFS：{$cid}
image-pin-failed = 未能固定到 IPFS：{$reason ->
    [timeout] IPFS 节点响应超时。
    [unreachable] 无法连接 IPFS 节点。
    [rejected] IPFS 节点拒绝了上传。
   *[other] 出了点问题。
    }
