"""`summarize serve`: the third run mode, an HTTP API (FastAPI on uvicorn) over the same pipeline.

flags.py declares the command's options; service.py holds the warm engines and the batcher;
requests.py turns request bodies into Documents and option sets; batching.py groups documents from
concurrent requests; metrics.py counts; app.py is the FastAPI app; server.py starts and stops uvicorn.
Only flags.py is imported by the CLI at start-up: the rest imports FastAPI, so it loads when serving.
"""
