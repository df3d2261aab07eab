"""QR images of ticket codes: what the gate scans is exactly the ticket code.

qrcode (and Pillow under it) is imported on the first drawing, not at start-up: most of the
time the service draws nothing, and the two cost ~4 MiB and ~70 ms to import.

Drawing is cheap on purpose: every paid order draws its tickets, in a sale rush hundreds a
minute, in a worker thread that still takes the GIL from the event loop. qrcode's own
`make(fit=True)` without a mask pattern encodes the code eight times to score each mask (three
quarters of its time), and its image factory paints every module as a rectangle. Here the mask
is fixed (any of the eight is valid; the score only picks the one with the fewest
scanner-confusing blocks, and these codes are short) and the image is one pixel per module,
scaled up: about 4 ms a code instead of 15-20.
"""

from __future__ import annotations

import io

BORDER = 4  # modules of quiet zone, the minimum the standard asks for
MASK = 2  # columns: a fixed mask, see above


def qr_png(text: str, *, box_size: int = 10) -> bytes:
    """Render text as a QR code PNG (black on white, `box_size` pixels a module)."""
    import qrcode
    from PIL import Image
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=BORDER, mask_pattern=MASK)
    code.add_data(text)
    code.make(fit=True)
    matrix = code.get_matrix()
    size = len(matrix)
    image = Image.new("1", (size, size), 1)
    image.putdata([0 if dark else 1 for row in matrix for dark in row])
    image = image.resize((size * box_size, size * box_size), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
