# 停止回答与重新生成（按钮、/stop、/retry）。

cmd-stop = 停止正在生成的回答
cmd-retry = 重新回答上一个问题

button-stop = ⏹ 停止
button-regenerate = 🔄 重新生成
answer-stopped = 已停止。
stop-done = 已停止。
stop-not-yours = 只有提问的人（或管理员）可以停止这个回答。
stop-nothing = 现在没有正在生成的回答可以停止。
answer-finished = 这个回答已经结束了。
retry-nothing = 还没有可以重新回答的问题。
retry-not-yours = 只有提问的人可以重新生成这个回答。
