Attribute VB_Name = "xlsales_test"
' xlsales self-test: proves the embedded VBA project loads and runs.
' xlsales 自检：证明内嵌的 VBA 工程可以加载并运行。
Option Explicit

Sub XS_SelfTest()
    ThisWorkbook.Worksheets(1).Range("A1").Value = "xlsales-ok"
End Sub
