# /image: generated pictures, pinned to IPFS.

cmd-image = Generate a picture

image-usage = Usage: /image what to draw — for example: /image a red fox in the snow
image-prompt-too-long = That description is too long for the image model: {$length} characters, at most {$max}. Please shorten it.
image-refused = The image model refused this description (content policy). Please try a different one.
image-bad-answer = The image model did not send back a usable picture. Please try again.
image-download-failed = I couldn't fetch the picture from the image service. Please try again.
image-send-failed = The picture was generated but Telegram would not accept it. Please try again.
image-pinning = Pinning to IPFS…
image-pinned = IPFS: {$cid}
image-pin-failed = Not pinned to IPFS: {$reason ->
    [timeout] the IPFS node did not answer in time.
    [unreachable] the IPFS node is unreachable.
    [rejected] the IPFS node refused the upload.
   *[other] something went wrong.
    }
