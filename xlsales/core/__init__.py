"""The domain: plain Python and pandas, no files, no workbooks, no clock.

Schema and setup, stages and probabilities, commit rules, periods, money rounding, targets
decomposition, the figures' formulas (``expr``) and the rules that check a rep's rows.

May import: the standard library, pandas, numpy and other ``xlsales.core`` modules — nothing
else of xlsales and no spreadsheet library (``tests/test_layers.py`` holds this).
"""
