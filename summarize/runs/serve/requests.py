"""Request bodies: their pydantic models (FastAPI validates and documents them; inputs.given reads
their Documents, Service.options_for makes their options). Whatever is wrong with a request becomes
a Rejected: an HTTP status and one line, the only shape an error leaves the server in."""

from __future__ import annotations

import enum
import re
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from summarize.flags import contract_fields, request_fields
from summarize.options import flag_of, per_request
from summarize.runs.serve.error_shape import BAD_REQUEST, UNPROCESSABLE


def _http_help(text: str) -> str:
    """An option's help in a request's words: its flags as fields, no command-line default."""
    flags = {flag_of(spec): name for name, (spec, _) in request_fields().items()}
    text = re.sub(r"\s*\\\[default: [^\]]*\]", "", text).replace("\\[", "[")
    return re.sub(r"--[a-z-]+", lambda flag: flags.get(flag.group(), flag.group()), text)


def _request_options() -> type[BaseModel]:
    """The request's "options": the options marked per_request, each optional (absent: as the server
    has it), with the type, choices and bounds of its declaration; the server adds its own limits.
    Numbers and booleans are strict: pydantic would read `"beams": true` as 1 beam and `"check": "no"`
    as false, where the command line refuses both."""
    declared = {}
    for name, (spec, hint) in request_fields().items():
        bounds = {key: spec.metadata[limit] for key, limit in (("ge", "min"), ("le", "max")) if limit in spec.metadata}
        strict = not any(isinstance(kind, type) and issubclass(kind, enum.Enum) for kind in typing.get_args(hint) or (hint,))
        declared[name] = (hint | None, Field(None, description=_http_help(spec.metadata["help"]), strict=strict, **bounds))
    return create_model(
        "RequestOptions",
        __config__=ConfigDict(extra="forbid"),
        __doc__="What a request may change of the server's settings; each within the server's limits.",
        __module__=__name__,
        **declared,
    )


RequestOptions = _request_options()


class SummarizeRequest(BaseModel):
    """One article: exactly one of text, url or html."""

    model_config = ConfigDict(extra="forbid", strict=True)  # "2" is not 2, nor true a number: a wrong type is a 422

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


def validation_line(errors: list[dict[str, Any]]) -> tuple[int, str]:
    """pydantic's list of problems as a status and one line: the first problem, and how many more."""
    first = errors[0]
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"][1:]).lstrip(".")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    if first["type"] == "json_invalid":
        return BAD_REQUEST, f'the body is not valid JSON ({first.get("ctx", {}).get("error", first["msg"])}); send a JSON object such as {{"text": "…"}}'
    if first["type"] == "missing" and not where:
        return BAD_REQUEST, 'the body is empty; send a JSON object such as {"text": "…"}'
    if first["type"] == "extra_forbidden":
        in_options = "options" in first["loc"][:-1]
        marked = contract_fields().get(first["loc"][-1]) if in_options else None
        if marked is not None and per_request(marked[0]) is False:
            flag = flag_of(marked[0])
            return UNPROCESSABLE, f"{where} is this server's choice, made when it started (summarize serve {flag} …); leave it out{more}"
        known = RequestOptions.model_fields if in_options else SummarizeRequest.model_fields
        return UNPROCESSABLE, f"unknown field {where!r}; the fields are: {', '.join(known)}{more}"
    message = first["msg"].removeprefix("Value error, ")
    return UNPROCESSABLE, f"{where}: {message}{more}" if where else f"{message}{more}"
