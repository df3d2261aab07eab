"""QR images of ticket codes: what the gate scans is exactly the ticket code.

qrcode (and Pillow under it) is imported on the first drawing, not at start-up: most of the
time the service draws nothing, and the two cost ~4 MiB and ~70 ms to import.
"""

from __future__ import annotations

import io


def qr_png(text: str, *, box_size: int = 10) -> bytes:
    """Render text as a QR code PNG."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(text)
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
