"""The edges that touch files: safe intake of hostile workbooks, reading rep and manager
workbooks (python-calamine, openpyxl), the inbox, actuals and targets files, the previous
report, and LibreOffice as an independent engine.

May import: ``xlsales.core``, ``xlsales.report`` and third-party readers — never
``xlsales.excel``, ``xlsales.cli`` or ``xlsales.run``.
"""
