"""xlsales — an Excel-native sales process: templates, consolidation, commit rollups, targets and variance."""

__version__ = "0.1.0"
