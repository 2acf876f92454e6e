# /usage: tokens and estimated cost per user and per chat.

cmd-usage = Tokens and cost so far
usage-you = Your usage
usage-chat = This chat
usage-today = Today
usage-month = This month
usage-total = Total
usage-line = {$period}: {$tokens} tokens (in {$prompt}, out {$completion}), {$cost}
usage-line-none = {$period}: nothing yet
usage-line-cached = {$period}: {$tokens} tokens (in {$prompt}, {$cached} of them cached; out {$completion}), {$cost}
usage-images = { $images ->
    [one] {", "}1 image
   *[other] {", "}{$images} images
}
usage-cost-at-least = at least {$cost}
usage-footnote = _Costs are estimates from list prices; days and months are in UTC._
usage-transcribed = {", "}{$minutes} min transcribed
usage-spoken = {", "}{$minutes} min spoken
