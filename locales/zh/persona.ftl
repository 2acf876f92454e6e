# /persona：预设的系统提示词（角色），从内联键盘中选择。

cmd-persona = 选择角色（预设的系统提示词）
persona-title-chat = **本聊天的角色**
persona-title-member = **你在本群中的角色**
persona-current = 当前使用：{ $name }
persona-tap = 点按一个即可使用。/system 显示提示词；管理员可在那里设置自己的提示词，它会作为一个选项（“自定义”）保留在这里。
persona-tap-private = 点按一个即可使用。/system 显示提示词或设置你自己的提示词，之后它会作为一个选项（“自定义”）保留在这里。
persona-tap-admins = 只有本群管理员可以更改。/system 显示提示词。
system-current-persona = **本聊天使用角色“{ $name }”：**
persona-custom = 自定义（/system）
persona-picked = 已切换为：{ $name }
persona-admin-only = 只有本群管理员可以选择本群的角色。
persona-unknown = 该角色已不可用。
persona-no-custom = 本聊天没有自定义提示词：管理员可用 /system 设置。
