# /usage：每个用户和每个聊天的令牌数和预计费用。

cmd-usage = 已用令牌和费用
usage-you = 你的用量
usage-chat = 本聊天
usage-today = 今天
usage-month = 本月
usage-total = 总计
usage-line = {$period}：{$tokens} 个令牌（输入 {$prompt}，输出 {$completion}），{$cost}
usage-line-none = {$period}：暂无
usage-line-cached = {$period}：{$tokens} 个令牌（输入 {$prompt}，其中缓存 {$cached}；输出 {$completion}），{$cost}
usage-images = ，{$images} 张图片
usage-cost-at-least = 至少 {$cost}
usage-footnote = _费用按公开价格估算；日和月按 UTC 计算。_
usage-transcribed = {"，"}转写 {$minutes} 分钟
usage-spoken = {"，"}朗读 {$minutes} 分钟
