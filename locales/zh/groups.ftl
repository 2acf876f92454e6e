# 访问控制、仅管理员可用的命令（/system、/settings）、频率限制与预算。

access-denied = 抱歉，这是一个私人机器人，你在这里无法使用。请向它的管理者申请权限。
access-denied-title = 无法使用
admin-only = 只有本群的管理员才能这样做。
admin-only-button = 只有本群的管理员才能修改设置。
reset-admin-only = 只有本群的管理员才能清除共享的对话记录。管理员可以在 /settings 中改为每位成员各自一份记录。

cmd-system = 查看或设置本聊天的系统提示词
cmd-settings = 本聊天的模型、历史记录和语言

system-current-default = **本聊天使用默认的系统提示词：**
system-current-custom = **本聊天的系统提示词：**
system-hint =
    { $admin ->
        [yes] 发送 /system 加上新的提示词即可修改；/system reset 恢复默认。
       *[no] 只有本群的管理员才能修改。
    }
system-set = 好的，本聊天的系统提示词已设置（{ $tokens } 个 token）。这里的每个问题都会先发送它。
system-reset-done = 好的，本聊天已恢复默认的系统提示词。
system-too-long = 这个系统提示词太长了：{ $tokens } 个 token，最多允许 { $max } 个。请缩短一些。

settings-title = **本聊天的设置**
settings-model = 模型：{ $model }
settings-history =
    历史记录：{ $mode ->
        [per-user] 每位成员各自一份
       *[shared] 全群共用一份
    }
settings-language =
    语言：{ $language ->
        [en] English
        [zh] 中文
       *[auto] 自动（按每个人的 Telegram 语言）
    }
settings-voice =
    语音消息：{ $voice ->
        [on] 用文字并附带语音回答
       *[off] 用文字回答
    }
settings-tap = 点击按钮即可修改设置。
settings-button-shared = 共用历史记录
settings-button-per-user = 每位成员各自的历史记录
settings-button-auto = 自动
settings-button-voice-on = 🔊 用语音回答语音
settings-button-voice-off = 只用文字
settings-saved = 已保存。
settings-unavailable = 这个选项已不可用。

rate-limited = 你提问的速度超过了本机器人的限制，请在 { $seconds } 秒后再试。

duration-hours-minutes =
    { $hours ->
        [0] { $minutes } 分钟
       *[other] { $hours } 小时 { $minutes } 分钟
    }
budget-exceeded-tokens =
    { $scope ->
        [user] 你的
       *[chat] 本聊天的
    }每日 token 预算不够回答这个问题：今天还剩 { $left } 个（共 { $limit } 个），而这个问题最多可能需要 { $needed } 个。预算在 UTC 时间 00:00 重置（还有 { $time }）。
budget-exceeded-cost =
    { $scope ->
        [user] 你的
       *[chat] 本聊天的
    }每日费用上限不够回答这个问题：今天还剩 { $left }（共 { $limit }），而这个问题最多可能花费 { $needed }。上限在 UTC 时间 00:00 重置（还有 { $time }）。
budget-title = **今日预算**
budget-line-tokens =
    { $scope ->
        [user] 你
       *[chat] 本聊天
    }：还剩 { $left } 个 token（共 { $limit } 个）
budget-line-cost =
    { $scope ->
        [user] 你
       *[chat] 本聊天
    }：还剩 { $left }（共 { $limit }）
budget-held = （另有 { $held } 预留给正在生成的回答）
budget-resets = 在 UTC 时间 00:00 重置（还有 { $time }）。
budget-owner-exempt = 你是机器人的管理者，不受限制。
