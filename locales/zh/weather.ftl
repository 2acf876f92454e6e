# /weather：通过模型的天气工具（Open-Meteo）查询当前天气。

cmd-weather = 查询城市当前天气
weather-usage = 用法：/weather 城市 —— 例如：/weather 东京 或 /weather Paris
weather-place-too-long = 地名太长了（最多 {$max} 个字符）。
# 以用户的语言发给模型的问题。
weather-question = {$place}现在的天气怎么样？
# Shown while the weather tool runs; the answer replaces it.
weather-status = 正在查询{$location}的天气…
