"""Markdown read into headings, paragraphs and pipe tables."""

from __future__ import annotations

from adapters.documents.extractor import LocalTextExtractor
from talia_core.knowledge.model import DocumentKind
from talia_core.knowledge.text import Block, ExtractedText

FAQ = """\
---
title: no es parte del texto
---
Preguntas frecuentes
====================

Todo sobre **nuestras invitaciones**, con [ejemplos](https://ejemplo.pe/galeria) y
`códigos` de descuento.

## Precios

| Plan | Precio | Invitados |
|:-----|-------:|:---------:|
| Básico | S/ 49 | 100 |
| Pro \\| Boda | S/ 99 | ilimitados |

**Recargos por envío**

| Zona | Recargo |
| --- | --- |
| Lima | S/ 0 |

### ¿Cómo pago?
Pagos aceptados:
- Tarjeta de crédito
* Yape o *Plin*
1. Primero eliges
2) Luego pagas

> Las transferencias tardan un día hábil.

Envíos
------

```text
Código de seguimiento: ABC-123
```
***
Fin &amp; gracias.
"""


async def read(text: str) -> ExtractedText:
    return await LocalTextExtractor().extract(text.encode(), DocumentKind.MARKDOWN)


async def test_markdown_blocks_come_out_in_order_with_their_levels() -> None:
    text = await read(FAQ)

    assert text == ExtractedText(
        blocks=(
            Block.heading("Preguntas frecuentes", 1),
            Block.paragraph(
                "Todo sobre nuestras invitaciones, con ejemplos y códigos de descuento."
            ),
            Block.heading("Precios", 2),
            Block.table(
                (
                    ("Plan", "Precio", "Invitados"),
                    ("Básico", "S/ 49", "100"),
                    ("Pro | Boda", "S/ 99", "ilimitados"),
                ),
                title="Precios",
            ),
            Block.table((("Zona", "Recargo"), ("Lima", "S/ 0")), title="Recargos por envío"),
            Block.heading("¿Cómo pago?", 3),
            Block.paragraph("Pagos aceptados:"),
            Block.paragraph(
                "- Tarjeta de crédito\n- Yape o Plin\n1. Primero eliges\n2) Luego pagas"
            ),
            Block.paragraph("Las transferencias tardan un día hábil."),
            Block.heading("Envíos", 2),
            Block.paragraph("Código de seguimiento: ABC-123"),
            Block.paragraph("Fin & gracias."),
        ),
        title="Preguntas frecuentes",
    )


async def test_a_table_with_ragged_rows_is_padded_and_needs_no_outer_pipes() -> None:
    text = await read("Plan | Precio\n--- | ---\nBásico | S/ 49\nPro\n")

    assert text.blocks == (Block.table((("Plan", "Precio"), ("Básico", "S/ 49"), ("Pro", ""))),)


async def test_a_lone_dashed_line_under_text_is_a_heading_not_a_table() -> None:
    text = await read("Envíos | Cambios\n---\n\nTexto.\n")

    assert text.blocks == (Block.heading("Envíos | Cambios", 2), Block.paragraph("Texto."))
    assert text.title is None


async def test_an_unclosed_code_fence_runs_to_the_end() -> None:
    text = await read("Intro.\n\n~~~~\nlínea 1\n\nlínea 2\n")

    assert text.blocks == (Block.paragraph("Intro."), Block.paragraph("línea 1\n\nlínea 2"))
