"""HTTP routes for a collection's hover: /clipdemo/collection/{name}/thumb/{i} and …/point/{i}.

Images are addressed by point index only, never by path: the server looks the path up in the
collection's own metadata and reads it from that collection's source (service.collection_thumbnail
refuses anything outside it). Only collections given at launch exist here.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from clipdemo.core.images import ImageError
from clipdemo.data.collection import service
from clipdemo.data.collection.layout import CollectionError

CACHE_CONTROL = "private, max-age=3600"


def _args(request) -> tuple[str, int]:
    return request.path_params["name"], int(request.path_params["index"])


async def thumbnail(request) -> Response:
    try:
        name, index = _args(request)
        data = await run_in_threadpool(service.collection_thumbnail, name, index)
    except (CollectionError, ImageError, ValueError, OSError) as e:
        return PlainTextResponse(str(e), status_code=404)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": CACHE_CONTROL})


async def point(request) -> Response:
    try:
        name, index = _args(request)
        c = service.active().get(name)
        if not 0 <= index < c.count:
            raise CollectionError(f"no point {index}")
        row = {"index": index, "image_path": c.metadata["image_path"].iat[index],
               "caption": c.metadata["caption"].iat[index]}
    except (CollectionError, ValueError) as e:
        return PlainTextResponse(str(e), status_code=404)
    return JSONResponse(row, headers={"Cache-Control": CACHE_CONTROL})


def routes() -> list[Route]:
    return [Route("/clipdemo/collection/{name}/thumb/{index:int}", thumbnail, methods=["GET"]),
            Route("/clipdemo/collection/{name}/point/{index:int}", point, methods=["GET"])]
