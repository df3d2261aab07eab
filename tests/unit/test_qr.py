"""Ticket QR images decode to exactly the ticket code, quiet zone and size as before."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from payments.tickets.qr import qr_png
from tests.qr import read_qr


@pytest.mark.parametrize(
    "text",
    [
        "ZT-20261203-001-1",
        "ZT1.eyJ0IjoiWlQtMjAyNjEyMDMtMDAxLTEiLCJkIjoiMjAyNi0xMi0wMyJ9.c2lnbmF0dXJlLW9mLXRoZS10aWNrZXQ",
        # Its modules also hold a row that zxing-cpp's ITF reader takes for the barcode "4220":
        # a reader that looks for every symbology finds two codes (failed CI once).
        "ZT1.ZT-XJNE-W5VC-46PC.20261204.1000.adult.p."
        "33P7Rj2JCpzb8cpFR-kIFbRJvEfNvqKSLNbxtn6yJFP_AXjSh1Cu_iRdZ4gLZgxqq_wji67n7SaiSIFtDT8mAQ",
    ],
)
def test_a_ticket_qr_decodes_to_its_code(text: str) -> None:
    png = qr_png(text)
    image = Image.open(io.BytesIO(png))

    assert read_qr(png) == [text]
    assert image.width == image.height
    assert image.width % 10 == 0  # whole modules of 10 pixels
    # The quiet zone: the outer 4 modules (40 pixels) are white all round.
    pixels = image.convert("L").load()
    assert pixels is not None
    edge = [pixels[x, y] for x in range(image.width) for y in (0, 39, image.height - 1)]
    assert set(edge) == {255}
