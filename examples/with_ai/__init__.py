"""with_ai: a chat API over plumego's AI gateway, offline by default.

``python -m examples.with_ai [--host H] [--port P] [--data-dir D] [--backend redis://...] [--provider-url URL]
[--model M]``. POST /api/chat {"message", "session_id"?} answers as JSON, or as Server-Sent Events with
``Accept: text/event-stream``; GET /api/ai/status shows the provider, its models (from its API) and counters.
Without ``--provider-url`` a scripted local provider answers (no network); with it, any OpenAI-compatible server
(OpenAI, vLLM, Ollama, llama.cpp) does, with ``AI_API_KEY`` from the environment. Sessions live in SQLite under
the data dir (or Redis with ``--backend``). The experimental x/ai API is used only in ``adapters/chat.py``.
"""
