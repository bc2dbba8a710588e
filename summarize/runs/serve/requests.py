"""Request bodies: their pydantic models (FastAPI validates and documents them; inputs.given reads
their Documents, Service.options_for makes their options). Whatever is wrong with a request becomes
a Rejected: an HTTP status and one line, the only shape an error leaves the server in."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, model_validator

from summarize.config import MAX_BEAMS, Engine, Length

BAD_REQUEST, TOO_LARGE, UNPROCESSABLE, UNAVAILABLE, TIMED_OUT = 400, 413, 422, 503, 504


@dataclass
class Rejected(Exception):
    """A request the server will not run: its HTTP status and the one line that says why."""

    status: int
    message: str
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


class RequestOptions(BaseModel):
    """What a request may change of the server's settings; each within the server's limits."""

    model_config = ConfigDict(extra="forbid")

    length: Length | None = Field(None, description="short, medium or long (2/3/5 sentences for extractive and lead).")
    max_words: int | None = Field(None, ge=1, description="Word budget for engine extractive or lead.")
    translate: bool | None = Field(None, description="false: no English translation for this request.")
    engine: Engine | None = Field(None, description="abstractive (the server's model), extractive or lead.")
    beams: int | None = Field(None, ge=1, le=MAX_BEAMS, description="Beam search width, at most the server's --max-beams.")
    check: bool | None = Field(None, description="Check the summary's names and numbers against the article.")


class SummarizeRequest(BaseModel):
    """One article: exactly one of text, url or html."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(None, description="The article's body as plain text (the headline goes in title).")
    url: str | None = Field(None, description="An http(s) page to fetch and take the article from.")
    html: str | None = Field(None, description="A web page's HTML to take the article from.")
    title: str | None = Field(None, description="The headline, for text.")
    id: str | None = Field(None, description="Your id for it, returned as the result's id.")
    options: RequestOptions = Field(default_factory=RequestOptions)

    @model_validator(mode="after")
    def _one_input(self) -> SummarizeRequest:
        given = [name for name in ("text", "url", "html") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of text, url or html (got {', '.join(given) or 'none'})")
        if self.title is not None and self.text is None:
            raise ValueError("title goes with text; a page's title is taken from the page")
        return self

    @property
    def source(self) -> str:
        """As results show it: the url as given, else the kind of input."""
        return self.url if self.url is not None else ("text" if self.text is not None else "html")
