"""The request-body limit of the assessment upload page, applied while the request is read.

Django's own limits do not cover this: ``DATA_UPLOAD_MAX_MEMORY_SIZE`` counts form fields, not
files, and ``FILE_UPLOAD_MAX_MEMORY_SIZE`` only decides when an upload moves from memory to a
temporary file. This handler goes first in the request's upload handlers, so no byte of an
oversized file reaches the handlers that keep it in memory or write it to disk.
"""

from __future__ import annotations

from django.core.files.uploadhandler import FileUploadHandler, StopUpload

from .documents import max_upload_bytes


class UploadLimitHandler(FileUploadHandler):
    """Stops reading a request over the limit: at once when its declared length is too large (the
    form fields before the file, such as the CSRF token, are still read), otherwise as soon as
    the file passes the limit. ``refused`` tells the view to show the error."""

    def __init__(self, request=None, max_bytes: int | None = None):
        super().__init__(request)
        self.max_bytes = max_upload_bytes() if max_bytes is None else max_bytes
        self.refused = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > self.max_bytes:
            self.refused = True
        return None  # the normal parser reads the fields; new_file stops it at the file

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        if self.refused:
            self._stop()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.max_bytes:
            self.refused = True
            self._stop()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (memory or temporary file) makes the file

    def _stop(self):
        # The rest of the body is left unread: the error page goes back at once (a browser shows
        # it; measured with Chromium against gunicorn directly), rather than after the worker
        # has read and thrown away hundreds of megabytes. In production the proxy in front
        # (docker-compose.yml) refuses such a body before it reaches the application at all.
        raise StopUpload(connection_reset=True)
