"""Reading ticket QR images the way a gate does: QR codes only.

zxing-cpp reads every format it knows by default, and a QR's modules can hold a short run
that its Interleaved 2 of 5 reader accepts: about 1 ticket image in 400 also "contains" a
4-digit ITF barcode (seen in CI, then reproduced: 10 of 4 000 random ticket codes). A gate
scanner (Telegram's QR popup, a turnstile's QR reader) looks for QR codes, so the tests do too.
"""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image


def read_qr(png: bytes) -> list[str]:
    """The text of every QR code in a PNG image (other symbologies are not looked for)."""
    image = Image.open(io.BytesIO(png)).convert("L")
    found = zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    return [str(barcode.text) for barcode in found]


def decode_qr(png: bytes) -> str:
    """The text of the one QR code in a PNG image."""
    texts = read_qr(png)
    assert len(texts) == 1, f"expected one QR code, read {len(texts)}"
    return texts[0]
