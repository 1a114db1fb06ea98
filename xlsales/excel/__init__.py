"""The Excel edge: manager.xlsm (buttons, VBA project), the RunPython entry points behind the
buttons (``buttons``) and the worksheet functions (``udfs``), each a thin call into the one
pipeline (``xlsales.run``) or the core's measures.

May import: anything of xlsales; nothing imports this package except the CLI (to build
manager.xlsm). ``buttons`` imports only the standard library at module level, so a button
whose Python is broken still reports why in Excel.
"""
