"""The baseline for bench/webhook.py: a bare Flask app answering "OK"."""
from flask import Flask

app = Flask(__name__)


@app.post("/callback")
def callback() -> str:
    return "OK"
