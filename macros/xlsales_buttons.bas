Attribute VB_Name = "xlsales_buttons"
' xlsales manager buttons: each calls Python through xlwings RunPython.
' xlsales 管理表按钮：每个按钮通过 xlwings RunPython 调用 Python。
'   XS_Consolidate - Monday consolidation of rep workbooks / 周一汇总各销售代表工作簿
'   XS_Targets     - targets and variance / 目标与差异
'   XS_Refresh     - re-read and check the setup, create missing templates / 重新读取并检查设置,补齐模板
Option Explicit

Sub XS_Consolidate()
    RunPython "import xlsales.excel.buttons as b; b.consolidate()"
End Sub

Sub XS_Targets()
    RunPython "import xlsales.excel.buttons as b; b.targets()"
End Sub

Sub XS_Refresh()
    RunPython "import xlsales.excel.buttons as b; b.refresh()"
End Sub
