"""HTML read with the standard library's parser: headings, paragraphs and tables."""

from __future__ import annotations

from adapters.documents.extractor import LocalTextExtractor
from talia_core.knowledge.model import DocumentKind
from talia_core.knowledge.text import Block, ExtractedText

PRICES = """<!DOCTYPE html>
<html lang="es">
<head>
  <title>Precios &amp; planes</title>
  <style>body { color: red }</style>
  <script>var precio = "no es texto";</script>
</head>
<body>
  <nav><a href="/">Inicio</a> <a href="/precios">Precios</a></nav>
  <h1>Nuestros   planes</h1>
  <p>Elige el plan que mejor se adapte a tu
     celebraci&oacute;n.</p>
  <div>Atención de <b>lunes</b> a viernes<br>Sábados hasta el mediodía</div>
  <ul><li>Sin permanencia</li><li>Factura electr&#243;nica</li></ul>
  <table>
    <caption>Tarifas 2026</caption>
    <thead><tr><th>Plan</th><th>Precio</th><th>Invitados</th></tr></thead>
    <tbody>
      <tr><td>Básico</td><td>S/&nbsp;49</td><td>100</td></tr>
      <tr><td><p>Pro</p><p>(boda)</p></td><td>S/ 99</td><td>ilimitados</td></tr>
      <tr><td colspan="3">Precios con IGV</td></tr>
    </tbody>
  </table>
  <h2>Recargos</h2>
  <table><tr><td>Zona</td><td>Recargo</td></tr><tr><td>Lima</td><td>S/ 0</td></tr></table>
  <pre>Código:
  ABC-123</pre>
  <footer>© Tienda de invitaciones</footer>
  <noscript>Activa JavaScript</noscript>
</body>
</html>
"""


async def read(html: str) -> ExtractedText:
    return await LocalTextExtractor().extract(html.encode(), DocumentKind.HTML)


async def test_a_page_comes_out_as_headings_paragraphs_and_tables_in_order() -> None:
    text = await read(PRICES)

    assert text == ExtractedText(
        blocks=(
            Block.heading("Nuestros planes", 1),
            Block.paragraph("Elige el plan que mejor se adapte a tu celebración."),
            Block.paragraph("Atención de lunes a viernes\nSábados hasta el mediodía"),
            Block.paragraph("Sin permanencia"),
            Block.paragraph("Factura electrónica"),
            Block.table(
                (
                    ("Plan", "Precio", "Invitados"),
                    ("Básico", "S/ 49", "100"),
                    ("Pro (boda)", "S/ 99", "ilimitados"),
                    ("Precios con IGV", "Precios con IGV", "Precios con IGV"),
                ),
                title="Tarifas 2026",
            ),
            Block.heading("Recargos", 2),
            Block.table((("Zona", "Recargo"), ("Lima", "S/ 0")), title="Recargos"),
            Block.paragraph("Código:\nABC-123"),
        ),
        title="Precios & planes",
    )


async def test_a_layout_table_of_one_column_is_read_as_paragraphs() -> None:
    html = "<table><tr><td><h3>Aviso</h3></td></tr><tr><td>Cerrado el 1 de mayo.</td></tr></table>"

    text = await read(html)

    assert text.blocks == (Block.paragraph("Aviso"), Block.paragraph("Cerrado el 1 de mayo."))


async def test_a_table_nested_in_a_cell_is_its_own_table() -> None:
    html = (
        "<table><tr><th>Plan</th><th>Detalle</th></tr><tr><td>Pro</td><td>"
        "<table><tr><td>Invitados</td><td>Precio</td></tr><tr><td>200</td><td>S/ 99</td></tr>"
        "</table></td></tr></table><p>Después.</p>"
    )

    text = await read(html)

    assert text.blocks == (
        Block.table((("Invitados", "Precio"), ("200", "S/ 99"))),
        Block.table((("Plan", "Detalle"), ("Pro", ""))),
        Block.paragraph("Después."),
    )


async def test_unclosed_and_stray_tags_do_not_lose_text() -> None:
    text = await read("<p>Uno<p>Dos</span></div><h2>Tres<p>Cuatro &copy 2026 &bogus;")

    assert [block.text for block in text.blocks] == ["Uno", "Dos", "Tres", "Cuatro © 2026 &bogus;"]
