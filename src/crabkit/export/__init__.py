"""Exports in the forms training tools read: TRL (SFT, DPO, GRPO), open-instruct RLVR, IFEval,
the Hugging Face Hub (Parquet, ``datasets`` directories, a dataset card, ``push_to_hub``)."""

from .forms import (
    PAIR_FORMS,
    RLVR_FORMS,
    SFT_FORMS,
    FormError,
    ground_truth_label,
    pair_rows,
    rlvr_rows,
    sft_rows,
)
from .hub import push_to_hub
from .run import ExportConfig, ExportError, ExportResult, export_run
from .write import FORMATS, read_parquet_rows, write_rows

__all__ = [
    "FORMATS", "PAIR_FORMS", "RLVR_FORMS", "SFT_FORMS", "ExportConfig", "ExportError", "ExportResult", "FormError",
    "export_run", "ground_truth_label", "pair_rows", "push_to_hub", "read_parquet_rows", "rlvr_rows", "sft_rows",
    "write_rows",
]
