"""What xlsales writes: rep templates, the consolidated report (reviews, rollups, variance),
the targets workbook — each figure a live formula whose cached value the core computed.

May import: ``xlsales.core`` and XlsxWriter/openpyxl — never ``xlsales.io``,
``xlsales.excel``, ``xlsales.cli`` or ``xlsales.run``.
"""
