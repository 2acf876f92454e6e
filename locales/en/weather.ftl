# /weather: the current weather through the model's weather tool (Open-Meteo).

cmd-weather = Current weather in a city
weather-usage = Usage: /weather city — for example: /weather Tokyo or /weather 北京
weather-place-too-long = That place name is too long (at most {$max} characters).
# The question sent to the model in the user's language.
weather-question = What's the weather in {$place} right now?
# Shown while the weather tool runs; the answer replaces it.
weather-status = Checking the weather in {$location}…
