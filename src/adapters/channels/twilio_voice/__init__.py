"""Phone calls through Twilio: the voice webhook's TwiML (``twiml``), the stream's token
(``tokens``), Media Streams' WebSocket messages (``stream``) and the call-update API that
puts a call through to a person (``transfers``).

Webhook   Twilio POSTs the call (``CallSid``, ``From``, ``To`` ...) as a signed form, like
          the WhatsApp webhook; the answer is TwiML
          ``<Response><Connect><Stream url="wss://…/api/voice/stream"><Parameter
          name="token" value="…"/></Stream></Connect></Response>``: a bidirectional stream.
Stream    JSON text frames. From Twilio: ``connected``; ``start`` once (``streamSid``,
          ``start.callSid``, ``start.customParameters``, ``start.mediaFormat``:
          ``audio/x-mulaw``, 8000 Hz, 1 channel); ``media`` (``media.payload``: base64 μ-law,
          20 ms a frame); ``mark`` (``mark.name``, once the audio sent before our mark has
          played, or was cleared); ``dtmf``; ``stop``. To Twilio: ``media`` (``streamSid``,
          ``media.payload``), ``mark`` (``mark.name``) and ``clear`` (drops the audio
          buffered and not played).
Transfer  POST {base}/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json, HTTP Basic,
          form ``Twiml=<Response><Dial>+51…</Dial></Response>``: the call leaves the stream
          for the number dialled.
(https://www.twilio.com/docs/voice/media-streams/websocket-messages)
"""
