"""Everything a rule may ask about the file being linted."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

import libcst as cst

from ..analysis.names import ImportTracker
from .versions import KerasVersion

if TYPE_CHECKING:  # pragma: no cover
    from ..analysis.model_contents import KindView, ModelContents


@dataclass
class FileContext:
    path: str
    source: str
    module: cst.Module
    keras_version: KerasVersion
    imports: ImportTracker = field(default_factory=ImportTracker)
    _models: Optional["ModelContents"] = None
    keras_backend: str = "tensorflow"  # the resolved Keras 3 backend (backends.py)
    _batchnorm: Optional["KindView"] = None

    @property
    def models(self) -> "ModelContents":
        """Lazy: built on the first question about a model's contents (and
        imported then: a file only KM101 looks at may never ask)."""
        if self._models is None:
            from ..analysis.model_contents import ModelContents

            self._models = ModelContents(self.module, self.imports, path=self.path)
        return self._models

    @property
    def batchnorm(self) -> "KindView":
        """Lazy: "does X contain BatchNormalization?" (shares the models index)."""
        if self._batchnorm is None:
            self._batchnorm = self.models.view("batchnorm")
        return self._batchnorm
