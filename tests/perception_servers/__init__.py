"""Local servers speaking the hearing and seeing providers' wire formats, for the adapters'
contracts and for any suite that needs a provider answering over real HTTP (the direct AI
routes, conversations that transcribe and describe):

    server = FakeHuggingFaceInference(token=HF_TOKEN, tasks={MODEL: Task.SPEECH_TO_TEXT})
    server = FakeOpenAIPerception(token=OPENAI_KEY)
    await server.start(); ...; await server.close()

Both are ``tests.fakeserver.LocalServer``s: scripted with ``will_hear``, ``will_caption``,
``will_see``, ``will_read``; told to fail the next request with ``answer_next``; they decode
what they are sent as the providers do, so a file that is not audio or not an image is
refused with the provider's own 400. ``media.py`` makes real audio and images to send.
"""
