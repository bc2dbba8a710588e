"""`summarize serve`: the third run mode, an HTTP API (FastAPI on uvicorn) over the same pipeline.

summarize/flags.py declares the command's options (ServeFlags); service.py holds the warm engines and the batcher;
requests.py validates request bodies and reads their Documents (with inputs.given); batching.py groups
documents from concurrent requests; metrics.py counts; app.py holds the routes, error_shape.py the one
error shape, browser.py the page and the API docs, guard.py the token and the body limit; listen.py
checks the host and takes the port; server.py starts and stops uvicorn, ray_serve.py Ray Serve.
The CLI imports none of this at start-up: it loads (FastAPI with it) when serving.
"""
