# 语音消息、音频文件和圆形视频（转写）、/transcribe、/say 以及语音回答。

cmd-say = 用语音消息读出一段文字
cmd-transcribe = 转写语音消息（回复它）
transcribe-usage = 用 /transcribe 回复一条语音消息、音频文件或圆形视频，我会写下其中说的内容。
say-usage = 用法：/say 文字 —— 或用 /say 回复一条消息，我来把它读出来。
say-too-long = 这段文字太长，一条语音消息说不完：{$length} 个字符，最多 {$max} 个。请缩短一些。
voice-too-long = 这段录音太长了：最多 {$minutes} 分钟（{$seconds} 秒）。请发送短一些的。
voice-too-large = 这个文件太大，我无法下载（Telegram 只允许机器人下载不超过 {$max} MB 的文件）。
voice-unsupported = 我无法读取这种音频格式。支持语音消息、MP3、M4A、OGG、WAV、FLAC、WebM 和 MP4。
voice-download-failed = 我无法从 Telegram 下载这段录音。请重新发送。
voice-silence = 这段录音里我什么也没听到。
voice-code-skipped = （代码见文字回答）
voice-answer-first-part = 这是回答的开头部分；完整内容见上面的文字。
speech-failed = 我没能生成语音消息。{$reason}
speech-forbidden = 我无法给你发送语音消息：你的隐私设置不允许。
speech-send-failed = 语音消息已生成，但无法在这里发送。
