# /tokens：令牌数量、GPT-3 的计数、字符数、费用；图片的令牌费用。

cmd-tokens = 统计令牌数并估算费用
tokens-usage =
    用法：/tokens 你的文字 —— 或者用 /tokens 回复一条消息或一张图片。
    加上 -v 可以查看每个令牌：/tokens -v 你好世界
tokens-nothing-to-count = 这条消息里没有可以统计的文字或图片。
tokens-count = **令牌数：**{$tokens}（{$model}，{$encoding}）
tokens-gpt3 = **GPT-3**（{$encoding}）：{$tokens}
tokens-characters = **字符数：**{$characters}
tokens-cost = **预计输入费用：**{$cost}（价格日期 {$date}）
tokens-no-price = **预计输入费用：**未知，没有 {$model} 的价格。
tokens-pieces-title = **各令牌及其解码结果**（"" 表示一个字符的一部分，由下一个令牌补全）：
tokens-more-pieces = ……还有 {$count} 个
tokens-image = **图片** {$width}×{$height}，模型 {$model}：
tokens-image-low = • 低细节（low）：{$tokens} 个令牌，{$cost}
tokens-image-high = • 高细节（high）：{$tokens} 个令牌，{$cost}
tokens-prices-as-of = 价格日期 {$date}。
