# /tokens: token counts, GPT-3's count, characters, cost; image token cost.

cmd-tokens = Count tokens and estimate the cost
tokens-usage =
    Usage: /tokens your text — or send /tokens as a reply to a message or a photo.
    Add -v to see each token: /tokens -v hello world
tokens-nothing-to-count = That message has no text or photo to count.
tokens-count = **Tokens:** {$tokens} ({$model}, {$encoding})
tokens-gpt3 = **GPT-3** ({$encoding}): {$tokens}
tokens-characters = **Characters:** {$characters}
tokens-cost = **Estimated input cost:** {$cost} (prices as of {$date})
tokens-no-price = **Estimated input cost:** unknown, there is no price for {$model}.
tokens-pieces-title = **Tokens and what they decode to** ("" is part of a character that the next token completes):
tokens-more-pieces = … and {$count} more
tokens-image = **Photo** {$width}×{$height} for {$model}:
tokens-image-low = • low detail: {$tokens} tokens, {$cost}
tokens-image-high = • high detail: {$tokens} tokens, {$cost}
tokens-prices-as-of = Prices as of {$date}.
