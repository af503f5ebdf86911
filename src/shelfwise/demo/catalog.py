"""Fixed vocabulary of the demo: the chain's assortment, stores and suppliers, the mall's tenants.

Kept as literal tables so a reader can see at a glance what the synthetic retailer sells and why a
series behaves as it does (its base level and season are written next to its name).
"""

from __future__ import annotations

import pandas as pd

CHAIN_NAME = "Mercado Paulistano"
MALL_NAME = "Shopping Parque Paulista"

# name, category, subcategory, brand, supplier, price, base units/day in an average store, season, shelf life
_PRODUCTS: tuple[tuple[str, str, str, str, str, float, float, str, int], ...] = (
    ("Arroz Tipo 1 5kg", "mercearia", "grãos", "Grão Fino", "F001", 27.90, 18, "none", 365),
    ("Feijão Carioca 1kg", "mercearia", "grãos", "Grão Fino", "F001", 8.49, 22, "none", 270),
    ("Feijão Preto 1kg", "mercearia", "grãos", "Sítio Bom", "F001", 8.99, 9, "winter", 270),
    ("Açúcar Refinado 1kg", "mercearia", "açúcar", "Doce Vale", "F001", 4.79, 20, "none", 720),
    ("Café Torrado 500g", "mercearia", "café", "Serra Azul", "F002", 18.90, 24, "winter", 180),
    ("Óleo de Soja 900ml", "mercearia", "óleos", "Sítio Bom", "F001", 7.49, 20, "none", 365),
    ("Azeite Extra Virgem 500ml", "mercearia", "óleos", "Casa Nobre", "F002", 34.90, 4, "none", 540),
    ("Macarrão Espaguete 500g", "mercearia", "massas", "Nonna Bella", "F001", 4.59, 26, "winter", 540),
    ("Molho de Tomate 340g", "mercearia", "molhos", "Nonna Bella", "F001", 2.99, 30, "none", 540),
    ("Farinha de Trigo 1kg", "mercearia", "farináceos", "Doce Vale", "F001", 5.29, 10, "june", 180),
    ("Biscoito Recheado Chocolate 140g", "mercearia", "biscoitos", "Crocante", "F002", 2.79, 35, "none", 240),
    ("Leite Condensado 395g", "mercearia", "doces", "Vale Verde", "F003", 6.99, 14, "june", 300),
    ("Achocolatado em Pó 400g", "mercearia", "matinais", "Crocante", "F002", 9.49, 10, "winter", 365),
    ("Sal Refinado 1kg", "mercearia", "temperos", "Doce Vale", "F001", 2.49, 8, "none", 1080),
    ("Milho de Pipoca 500g", "mercearia", "grãos", "Sítio Bom", "F001", 4.99, 3, "june", 365),
    ("Atum em Lata 170g", "mercearia", "enlatados", "Mar Azul", "F002", 8.99, 12, "easter", 1080),
    ("Sardinha em Lata 125g", "mercearia", "enlatados", "Mar Azul", "F002", 5.49, 8, "none", 1080),
    ("Panetone 500g", "mercearia", "sazonais", "Casa Nobre", "F002", 24.90, 14, "christmas_only", 120),
    ("Panetone Trufado 700g", "mercearia", "sazonais", "Casa Nobre", "F002", 49.90, 5, "christmas_only", 120),
    ("Ovo de Páscoa 200g", "mercearia", "sazonais", "Crocante", "F002", 39.90, 9, "easter_only", 180),
    ("Bacalhau Saithe 1kg", "mercearia", "importados", "Casa Nobre", "F010", 79.90, 0.3, "easter", 365),
    ("Cerveja Lata 350ml", "bebidas", "cervejas", "Serra Gelada", "F004", 3.99, 110, "summer_strong", 180),
    ("Cerveja Long Neck 355ml", "bebidas", "cervejas", "Serra Gelada", "F004", 6.49, 35, "summer_strong", 180),
    ("Refrigerante Cola 2L", "bebidas", "refrigerantes", "Fresh", "F004", 9.99, 40, "summer", 150),
    ("Refrigerante Guaraná 2L", "bebidas", "refrigerantes", "Fresh", "F004", 7.99, 30, "summer", 150),
    ("Água Mineral 500ml", "bebidas", "águas", "Fonte Clara", "F004", 2.29, 50, "summer_strong", 365),
    ("Água Mineral 1,5L", "bebidas", "águas", "Fonte Clara", "F004", 3.49, 25, "summer", 365),
    ("Suco de Laranja 1L", "bebidas", "sucos", "Fresh", "F004", 9.99, 12, "summer", 90),
    ("Energético Lata 250ml", "bebidas", "energéticos", "Fresh", "F004", 8.99, 9, "summer", 365),
    ("Vinho Tinto Reserva 750ml", "bebidas", "vinhos", "Quinta do Vale", "F010", 89.90, 0.3, "winter", 1080),
    ("Whisky 12 Anos 1L", "bebidas", "destilados", "Highland Gold", "F010", 169.90, 0.15, "christmas", 1800),
    ("Sabão em Pó 1,6kg", "limpeza", "roupas", "Limpa Bem", "F005", 21.90, 10, "none", 720),
    ("Detergente Líquido 500ml", "limpeza", "cozinha", "Limpa Bem", "F005", 2.39, 35, "none", 720),
    ("Amaciante 2L", "limpeza", "roupas", "Maciez", "F005", 16.90, 9, "none", 720),
    ("Água Sanitária 2L", "limpeza", "casa", "Limpa Bem", "F005", 6.49, 14, "none", 180),
    ("Desinfetante 2L", "limpeza", "casa", "Maciez", "F005", 9.99, 8, "none", 720),
    ("Esponja Multiuso 3un", "limpeza", "cozinha", "Limpa Bem", "F005", 4.99, 11, "none", 1800),
    ("Papel Toalha 2 rolos", "limpeza", "casa", "Folha Macia", "F006", 6.99, 9, "none", 1800),
    ("Inseticida Aerossol 300ml", "limpeza", "casa", "Limpa Bem", "F005", 17.90, 2, "summer_strong", 720),
    ("Papel Higiênico Folha Dupla 12un", "higiene", "papel", "Folha Macia", "F006", 19.90, 20, "none", 1800),
    ("Creme Dental 90g", "higiene", "bucal", "Sorriso", "F006", 4.49, 18, "none", 720),
    ("Sabonete 85g", "higiene", "banho", "Pétala", "F006", 2.19, 28, "none", 1080),
    ("Shampoo 350ml", "higiene", "cabelos", "Pétala", "F006", 14.90, 6, "none", 1080),
    ("Desodorante Aerossol 150ml", "higiene", "desodorantes", "Pétala", "F006", 15.90, 8, "summer", 1080),
    ("Fralda Descartável G 30un", "higiene", "infantil", "Bebê Feliz", "F006", 59.90, 3, "none", 1080),
    ("Protetor Solar FPS50 200ml", "higiene", "solares", "Sol & Mar", "F006", 54.90, 0.2, "summer_strong", 720),
    ("Pão Francês Pacote 6un", "padaria", "pães", "Paulistano", "F007", 7.50, 60, "none", 2),
    ("Pão de Forma 500g", "padaria", "pães", "Paulistano", "F007", 8.99, 18, "none", 10),
    ("Bolo de Fubá 400g", "padaria", "bolos", "Paulistano", "F007", 12.90, 4, "june", 5),
    ("Torrada Integral 160g", "padaria", "torradas", "Crocante", "F002", 6.49, 5, "none", 180),
    ("Banana Prata Bandeja 1kg", "hortifruti", "frutas", "Ceasa Verde", "F008", 6.99, 35, "none", 5),
    ("Tomate Italiano Bandeja 1kg", "hortifruti", "legumes", "Ceasa Verde", "F008", 9.99, 22, "none", 7),
    ("Batata Inglesa Saco 2kg", "hortifruti", "legumes", "Ceasa Verde", "F008", 11.90, 15, "none", 20),
    ("Alface Crespa un", "hortifruti", "verduras", "Ceasa Verde", "F008", 3.49, 16, "none", 3),
    ("Laranja Pera Saco 3kg", "hortifruti", "frutas", "Ceasa Verde", "F008", 13.90, 10, "winter", 15),
    ("Leite UHT Integral 1L", "laticínios", "leites", "Vale Verde", "F003", 5.29, 70, "none", 120),
    ("Iogurte Natural 170g", "laticínios", "iogurtes", "Vale Verde", "F003", 3.49, 20, "none", 30),
    ("Manteiga com Sal 200g", "laticínios", "manteigas", "Vale Verde", "F003", 14.90, 9, "none", 90),
    ("Requeijão Cremoso 200g", "laticínios", "requeijões", "Vale Verde", "F003", 8.99, 12, "none", 60),
    ("Queijo Mussarela Fatiado 150g", "frios", "queijos", "Mantiqueira", "F009", 9.99, 16, "none", 30),
    ("Presunto Cozido Fatiado 200g", "frios", "embutidos", "Mantiqueira", "F009", 8.49, 14, "none", 20),
    ("Linguiça Toscana 1kg", "frios", "embutidos", "Mantiqueira", "F009", 22.90, 8, "summer", 30),
    ("Queijo Brie 125g", "frios", "queijos", "Mantiqueira", "F009", 29.90, 0.3, "christmas", 45),
    ("Sorvete Pote 1,5L", "congelados", "sorvetes", "Gelato Sul", "F009", 24.90, 8, "summer_strong", 365),
    ("Picolé de Frutas", "congelados", "sorvetes", "Gelato Sul", "F009", 4.99, 12, "summer_strong", 365),
    ("Pizza Congelada Mussarela 460g", "congelados", "pratos prontos", "Nonna Bella", "F009", 19.90, 7,
     "winter", 180),
    ("Pão de Queijo Congelado 1kg", "congelados", "salgados", "Mantiqueira", "F009", 24.90, 6, "winter", 180),
    ("Lasanha Congelada 600g", "congelados", "pratos prontos", "Nonna Bella", "F009", 18.90, 5, "winter", 180),
    ("Lâmpada LED 9W", "bazar", "elétricos", "Luz Forte", "F010", 12.90, 0.3, "none", 3650),
    ("Pilha Alcalina AA c/4", "bazar", "elétricos", "Luz Forte", "F010", 22.90, 0.3, "christmas", 1800),
)

PANTRY_CATEGORIES = frozenset({"mercearia", "bebidas", "limpeza", "higiene"})
"""Categories shoppers stock up on during a promotion, hence a post-promotion dip."""

# Weekly profile Monday..Sunday per category (normalised later); weekends peak, differently by category.
WEEKLY: dict[str, tuple[float, ...]] = {
    "default": (0.85, 0.85, 0.9, 0.95, 1.1, 1.35, 1.0),
    "bebidas": (0.7, 0.7, 0.8, 0.9, 1.3, 1.7, 1.3),
    "padaria": (0.95, 0.95, 0.95, 0.95, 1.0, 1.15, 1.3),
    "hortifruti": (0.9, 1.0, 1.25, 0.9, 0.95, 1.25, 0.85),
    "frios": (0.85, 0.85, 0.9, 0.95, 1.15, 1.45, 1.1),
}

# Negative-binomial shape per category: smaller means more overdispersion.
DISPERSION: dict[str, float] = {
    "mercearia": 12.0, "bebidas": 8.0, "limpeza": 12.0, "higiene": 12.0, "padaria": 20.0,
    "hortifruti": 15.0, "laticínios": 15.0, "frios": 10.0, "congelados": 8.0, "bazar": 2.0,
}

# Lift per 10 points of discount, by category (drinks and pantry respond most).
ELASTICITY: dict[str, float] = {
    "mercearia": 0.38, "bebidas": 0.45, "limpeza": 0.33, "higiene": 0.30, "padaria": 0.22,
    "hortifruti": 0.28, "laticínios": 0.30, "frios": 0.33, "congelados": 0.40, "bazar": 0.25,
}

# supplier id, name, e-mail, lead time (days), review period (days between orders)
SUPPLIERS: tuple[tuple[str, str, str, int, int], ...] = (
    ("F001", "Distribuidora Paulista de Alimentos Ltda", "pedidos@distpaulista.com.br", 5, 7),
    ("F002", "Serra Azul Indústria e Comércio S.A.", "comercial@serraazul.com.br", 7, 7),
    ("F003", "Laticínios Vale Verde Ltda", "vendas@valeverde.com.br", 3, 2),
    ("F004", "Bebidas Serra Gelada S.A.", "atendimento@serragelada.com.br", 4, 3),
    ("F005", "Limpa Bem Química Ltda", "pedidos@limpabem.ind.br", 10, 7),
    ("F006", "Higiene & Cia Distribuidora Ltda", "sac@higieneecia.com.br", 8, 7),
    ("F007", "Panificação Central Paulistano", "producao@paulistano.com.br", 2, 1),
    ("F008", "Ceasa Verde Hortifrúti Comércio Ltda", "compras@ceasaverde.com.br", 2, 1),
    ("F009", "Frios e Congelados Mantiqueira Ltda", "pedidos@mantiqueira.com.br", 4, 3),
    ("F010", "Importadora Atlântico Bazar e Vinhos Ltda", "import@atlantico.com.br", 14, 14),
)

# store id, name, city, state, region, format, size factor
CHAIN_STORES: tuple[tuple[str, str, str, str, str, str, float], ...] = (
    ("001", f"{CHAIN_NAME} Pinheiros", "São Paulo", "SP", "Zona Oeste", "hipermercado", 1.4),
    ("002", f"{CHAIN_NAME} Tatuapé", "São Paulo", "SP", "Zona Leste", "supermercado", 1.0),
    ("003", f"{CHAIN_NAME} Santana", "São Paulo", "SP", "Zona Norte", "supermercado", 0.9),
    ("004", f"{CHAIN_NAME} Express Vila Mariana", "São Paulo", "SP", "Zona Sul", "express", 0.55),
    ("005", f"{CHAIN_NAME} Atacarejo Santo André", "Santo André", "SP", "ABC Paulista", "atacarejo", 1.2),
)

# tenant name, format, relative popularity, median ticket (R$)
TENANTS: tuple[tuple[str, str, float, float], ...] = (
    ("Moda Aurora", "moda", 1.2, 190.0),
    ("Estilo Paulista", "moda", 1.0, 160.0),
    ("Jeans & Co", "moda", 0.9, 210.0),
    ("Calçados Passo Certo", "moda", 0.8, 230.0),
    ("Boutique Lumière", "moda", 0.4, 520.0),
    ("Street Wear SP", "moda", 0.7, 170.0),
    ("Burger da Praça", "alimentação", 1.6, 48.0),
    ("Sushi Kaizen", "alimentação", 1.0, 85.0),
    ("Cantina Nonna Rosa", "alimentação", 0.9, 95.0),
    ("Café Grão de Ouro", "alimentação", 1.3, 26.0),
    ("Açaí Tropical", "alimentação", 1.0, 24.0),
    ("Pastelaria Liberdade", "alimentação", 1.1, 32.0),
    ("Sorveteria Gelato Fino", "alimentação", 0.8, 22.0),
    ("CineShow Parque Paulista", "cinema", 1.5, 64.0),
    ("TecnoMais", "eletrônicos", 0.8, 640.0),
    ("iCenter Digital", "eletrônicos", 0.5, 1450.0),
    ("Game Zone", "eletrônicos", 0.7, 260.0),
    ("Mercado Paulistano Express", "supermercado", 1.8, 118.0),
    ("Drogaria Saúde Já", "farmácia", 1.4, 62.0),
    ("Farmácia Bem-Estar", "farmácia", 1.0, 55.0),
    ("Academia Corpo em Forma", "academia", 0.6, 119.0),
    ("Brinquedos Mundo Mágico", "infantil", 0.9, 145.0),
    ("Kids Fun Park", "infantil", 0.9, 70.0),
    ("Pequeno Príncipe Moda Infantil", "infantil", 0.6, 160.0),
    ("Livraria Página Viva", "livraria", 0.6, 85.0),
    ("Salão Bela Vista", "beleza", 0.5, 140.0),
    ("Ótica Visão Clara", "ótica", 0.3, 480.0),
    ("Joalheria Diamante", "joalheria", 0.25, 890.0),
    ("Perfumaria Essência", "beleza", 0.6, 210.0),
    ("Pet Shop Amigo Fiel", "pet", 0.6, 95.0),
)


def products_frame() -> pd.DataFrame:
    """The assortment as a frame, one row per SKU, in catalogue order."""
    cols = ["name", "category", "subcategory", "brand", "supplier_id", "unit_price", "base", "season",
            "shelf_life_days"]
    return pd.DataFrame(list(_PRODUCTS), columns=cols)


def suppliers_frame() -> pd.DataFrame:
    """Suppliers with their lead time and ordering rhythm."""
    cols = ["supplier_id", "name", "email", "lead_time_days", "review_days"]
    return pd.DataFrame(list(SUPPLIERS), columns=cols)


def chain_stores_frame() -> pd.DataFrame:
    """The chain's five stores."""
    cols = ["store_id", "name", "city", "state", "region", "format", "size"]
    return pd.DataFrame(list(CHAIN_STORES), columns=cols)


def tenants_frame() -> pd.DataFrame:
    """The mall's tenants with ids `SHP-001`..."""
    frame = pd.DataFrame(list(TENANTS), columns=["name", "format", "popularity", "ticket"])
    frame.insert(0, "store_id", [f"SHP-{i:03d}" for i in range(1, len(frame) + 1)])
    return frame
