"""Input files shared by the ingestion tests, and the fixed 'today' they are loaded on."""

from __future__ import annotations

from datetime import date

TODAY = date(2026, 1, 20)


BRAZILIAN_FILES = {
    # Windows export: cp1252 (the en dash is cp1252-only), CRLF, ';', decimal comma, EAN ids with leading zeros
    "produtos.csv": (
        "Código Produto;Descrição;Categoria;Marca;Preço Custo;Preço Venda;Validade (dias)\r\n"
        "07891000100103;Café Torrado 500g – Tradicional;Mercearia;Pilão;12,30;18,90;180\r\n"
        "07891000100202;Açúcar Refinado 1kg;Mercearia;União;3,10;4,99;365\r\n"
        "07891000100301;Pão de Forma;Padaria;Pullman;5,00;8,49;7\r\n"
        '07891000100400;Feijão Carioca 1kg;Mercearia;Camil;6,10;"1.234,56";365\r\n'
        "07891000100509;Óleo de Soja;Mercearia;Soya;abc;7,99;365\r\n"  # cost not a number
        "07891000100202;Açúcar Refinado 1kg (nova embalagem);Mercearia;União;3,20;5,19;365\r\n"  # supersedes line 3
    ),
    "lojas.csv": (
        "Código Loja;Nome Fantasia;Cidade;UF;Região;Formato\r\n"
        "001;Loja Paulista;São Paulo;SP;Sudeste;Supermercado\r\n"
        "002;Loja Moema;São Paulo;SP;Sudeste;Supermercado\r\n"
        "003;Loja Niterói;Niterói;RJ;Sudeste;Express\r\n"
        ";Loja Sem Código;Campinas;SP;Sudeste;Express\r\n"  # store id missing
    ),
    "estoque.csv": (
        "Data;Loja;Produto;Saldo;Em Trânsito\n"
        "31/12/2025;001;07891000100103;120;24\n"
        "31/12/2025;001;07891000100202;1.050;0\n"
        "31/12/2025;002;07891000100103;-5;0\n"  # negative stock
        "31/12/2025;002;07891000100301;8,5;\n"
        "31/12/2025;002;07891000100998;10;0\n"  # a product the catalogue does not have
    ),
    "clientes.csv": (
        "Código Cliente;Nome;E-mail;Telefone;CPF;Data Nascimento;Sexo;Cidade;UF;Aceita Marketing;Data Cadastro\n"
        "000123;José da Silva;jose@example.com;(11) 99999-0000;123.456.789-09;05/03/1980;M;São Paulo;SP;Sim;"
        "10/01/2024 14:30\n"
        "000124;Maria Conceição;maria@example.com;11988887777;987.654.321-00;31/02/1990;F;Niterói;RJ;Não;"
        "11/01/2024 09:00\n"  # impossible birth date
        "000125;Ana Açaí;;;;;F;Belém;PA;talvez;12/01/2024 10:15\n"  # consent neither yes nor no
        "000126;Zé Ninguém;ze@example.com;;;01/01/1899;M;Recife;PE;S;13/01/2024 08:00\n"  # born before 1900
        "000127;Beatriz Lima;bia@example.com;;;15/07/1995;F;Curitiba;PR;N;2024-01-14 18:45\n"
    ),
    "campanhas.csv": (
        "Código Campanha;Nome;Início;Fim;Tipo;Desconto %;Canal;Investimento;Produtos;Lojas\n"
        'CP01;Semana do Café;01/02/2026;07/02/2026;discount;15;encarte;R$ 12.500,00;"07891000100103,07891000100202";'
        "001|002\n"
        "CP02;Volta às Aulas;20/01/2026;10/01/2026;display;0;tv;1.000;07891000100301;003\n"  # ends before it starts
        "CP03;Black Friday;27/11/2025;30/11/2025;coupon;150;app;(500,00);;\n"  # 150 % and a negative cost
    ),
    "vendas_2025.csv": (
        "Data;Código Loja;Código Produto;Quantidade;Valor Total;Preço Unitário;Promoção\n"
        "02/01/2025;001;07891000100103;2;37,80;18,90;N\n"
        "02/01/2025;001;07891000100103;1;18,90;18,90;N\n"  # same key as line 2: summed
        '2025-01-03;001;07891000100202;10;"1.234,56";4,99;S\n'
        "03/01/2025;002;07891000100301;-1;-8,49;8,49;N\n"  # a return
        "04/01/2025;002;07891000100400;abc;10,00;5,00;N\n"  # units not a number
        "31/02/2025;003;07891000100103;1;18,90;18,90;N\n"  # impossible date
        "05/01/2025;003;07891000100777;3;R$ 30,00;10,00;S\n"  # a product the catalogue does not have
        "05/01/2025;003;07891000100202;(2);(9,98);4,99;N\n"  # accounting negative: a return of two
    ),
}
