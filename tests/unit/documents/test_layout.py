"""Paragraphs, headings and tables found in lines laid out on a page (PDF pages, plain text)."""

from __future__ import annotations

from adapters.documents.layout import blocks_from_lines
from talia_core.knowledge.text import Block, BlockKind

PRICE_LIST = [
    "Lista de precios",
    "",
    "Producto                 Precio        Entrega",
    "Invitación digital        S/ 49        24 horas",
    "",
    "Invitación impresa      S/ 120         5 días",
    "Video invitación          S/ 89        48 horas",
    "",
    "Los precios incluyen IGV.",
]


def kinds(blocks: list[Block]) -> list[str]:
    return [block.kind.value for block in blocks]


def test_lines_whose_cells_line_up_are_a_table_titled_by_the_heading_above() -> None:
    blocks = blocks_from_lines(PRICE_LIST, page=2)

    assert blocks == [
        Block.heading("Lista de precios", 1, page=2),
        Block.table(
            (
                ("Producto", "Precio", "Entrega"),
                ("Invitación digital", "S/ 49", "24 horas"),
                ("Invitación impresa", "S/ 120", "5 días"),
                ("Video invitación", "S/ 89", "48 horas"),
            ),
            title="Lista de precios",
            page=2,
        ),
        Block.paragraph("Los precios incluyen IGV.", page=2),
    ]


def test_tab_separated_lines_are_a_table_without_lining_up() -> None:
    lines = ["Plan\tPrecio", "Básico con invitados ilimitados\tS/ 49", "Pro\tS/ 99"]

    blocks = blocks_from_lines(lines)

    assert blocks == [
        Block.table(
            (("Plan", "Precio"), ("Básico con invitados ilimitados", "S/ 49"), ("Pro", "S/ 99"))
        )
    ]


def test_a_short_paragraph_right_before_a_table_becomes_its_title() -> None:
    lines = [
        "Estas son las tarifas de envío vigentes desde marzo para todo el país.",
        "",
        "Tarifas de envío:",
        "Zona          Precio",
        "Lima          S/ 10",
        "Provincias    S/ 25",
    ]

    blocks = blocks_from_lines(lines)

    assert kinds(blocks) == ["paragraph", "table"]
    assert blocks[1].text == "Tarifas de envío"


def test_justified_prose_with_wide_gaps_is_no_table() -> None:
    lines = [
        "Las  invitaciones  digitales  se  envían  por  correo  y  por  WhatsApp  el  mismo  día,",
        "y  las  impresas  salen  de  nuestro  taller  en  Lima  al  día  hábil  siguiente  del",
        "pago  confirmado,  con  seguimiento  del  envío  hasta  su  entrega.",
    ]

    assert kinds(blocks_from_lines(lines)) == ["paragraph"]


def test_prose_set_in_two_columns_is_no_table() -> None:
    lines = [
        "Las invitaciones digitales se envían      Las impresas salen de nuestro taller",
        "por correo y por WhatsApp el mismo        al día hábil siguiente del pago, con",
        "día en que se confirma el pago.           seguimiento del envío.",
    ]

    assert BlockKind.TABLE not in {block.kind for block in blocks_from_lines(lines)}


def test_bulleted_lines_are_paragraphs_not_a_table() -> None:
    lines = ["Incluye:", "•   Diseño personalizado", "•   Confirmación de asistencia", "•   Mapa"]

    assert blocks_from_lines(lines) == [
        Block.paragraph("Incluye:"),
        Block.paragraph("• Diseño personalizado"),
        Block.paragraph("• Confirmación de asistencia"),
        Block.paragraph("• Mapa"),
    ]


def test_a_short_line_over_text_is_a_heading() -> None:
    blocks = blocks_from_lines(
        ["¿Cuánto tarda el envío?", "Las invitaciones digitales llegan el mismo día del pago."]
    )

    assert blocks == [
        Block.heading("¿Cuánto tarda el envío?", 1),
        Block.paragraph("Las invitaciones digitales llegan el mismo día del pago."),
    ]


def test_numbered_headings_take_their_level_from_the_numbering() -> None:
    lines = [
        "2  Envíos",
        "",
        "2.1 Plazos de entrega",
        "Las invitaciones digitales llegan el mismo día en que se confirma el pago.",
    ]

    assert blocks_from_lines(lines)[:2] == [
        Block.heading("2 Envíos", 1),
        Block.heading("2.1 Plazos de entrega", 2),
    ]


def test_lines_that_only_look_like_headings_are_text() -> None:
    lines = [
        "Las invitaciones digitales se envían por correo y por WhatsApp el",
        "Mismo día del pago",
        "",
        "Todo incluido.",
        "Las invitaciones impresas salen de nuestro taller en Lima al día siguiente.",
        "",
        "Nota al pie (ver condiciones",
        "en la web).",
    ]

    assert BlockKind.HEADING not in {block.kind for block in blocks_from_lines(lines)}


def test_numbered_steps_are_a_list_not_headings() -> None:
    lines = [
        "1. Elige una plantilla",
        "2. Personaliza los textos",
        "3. Paga en línea",
        "",
        "Recibirás el enlace de tu invitación en minutos, listo para compartir.",
    ]

    blocks = blocks_from_lines(lines)

    assert kinds(blocks) == ["paragraph"] * 4
    assert blocks[2].text == "3. Paga en línea"


def test_paragraphs_end_at_blank_lines_and_at_short_lines_ending_a_sentence() -> None:
    lines = [
        "Aceptamos tarjetas de crédito y de débito de todos los bancos del país,",
        "también Yape y Plin.",
        "Las transferencias se confirman en un día hábil, y el pedido sale después",
        "de confirmarse",
        "",
        "El comprobante llega por correo.",
    ]

    assert [block.text for block in blocks_from_lines(lines)] == [
        "Aceptamos tarjetas de crédito y de débito de todos los bancos del país, "
        "también Yape y Plin.",
        "Las transferencias se confirman en un día hábil, y el pedido sale después de confirmarse",
        "El comprobante llega por correo.",
    ]


def test_a_word_hyphenated_across_lines_is_joined() -> None:
    lines = [
        "Las invitaciones impresas se entregan por mensajería en un plazo de cinco días há-",
        "biles desde la confirmación del diseño.",
    ]

    assert blocks_from_lines(lines) == [
        Block.paragraph(
            "Las invitaciones impresas se entregan por mensajería en un plazo de cinco días "
            "hábiles desde la confirmación del diseño."
        )
    ]
