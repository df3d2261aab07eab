"""Ticket QR images decode to exactly the ticket code, quiet zone and size as before."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

from payments.tickets.qr import qr_png


@pytest.mark.parametrize(
    "text",
    [
        "ZT-20261203-001-1",
        "ZT1.eyJ0IjoiWlQtMjAyNjEyMDMtMDAxLTEiLCJkIjoiMjAyNi0xMi0wMyJ9.c2lnbmF0dXJlLW9mLXRoZS10aWNrZXQ",
    ],
)
def test_a_ticket_qr_decodes_to_its_code(text: str) -> None:
    image = Image.open(io.BytesIO(qr_png(text)))

    found = zxingcpp.read_barcodes(image.convert("L"))

    assert [barcode.text for barcode in found] == [text]
    assert image.width == image.height
    assert image.width % 10 == 0  # whole modules of 10 pixels
    # The quiet zone: the outer 4 modules (40 pixels) are white all round.
    pixels = image.convert("L").load()
    assert pixels is not None
    edge = [pixels[x, y] for x in range(image.width) for y in (0, 39, image.height - 1)]
    assert set(edge) == {255}
