# 由视觉模型读取的照片和图片文件。

photo-default-question = 描述这张图片。
photo-too-large = 这张图片太大了（最多 {$max} MB），请发送小一点的。
photo-download-failed = 无法从 Telegram 下载这张图片，请重新发送。
photo-unreadable = 无法把这个文件读取为 PNG、JPEG、WebP 或 GIF 图片。
