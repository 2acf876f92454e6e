# Stopping an answer and regenerating one (buttons, /stop, /retry).

cmd-stop = Stop the answer being written
cmd-retry = Answer the last question again

button-stop = ⏹ Stop
button-regenerate = 🔄 Regenerate
answer-stopped = Stopped.
stop-done = Stopped.
stop-not-yours = Only the person who asked (or an admin) can stop this answer.
stop-nothing = There is no answer being written to stop.
answer-finished = This answer is finished.
retry-nothing = There is no question to answer again yet.
retry-not-yours = Only the person who asked can regenerate this answer.
