"""Everything a rule may ask about the file being linted."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import libcst as cst

from .model_contents import KindView, ModelContents
from .names import ImportTracker
from .versions import KerasVersion


@dataclass
class FileContext:
    path: str
    source: str
    module: cst.Module
    keras_version: KerasVersion
    imports: ImportTracker = field(default_factory=ImportTracker)
    _models: Optional[ModelContents] = None
    keras_backend: str = "tensorflow"  # the resolved Keras 3 backend (backends.py)
    _batchnorm: Optional[KindView] = None

    @property
    def models(self) -> ModelContents:
        """Lazy: built on the first question about a model's contents."""
        if self._models is None:
            self._models = ModelContents(self.module, self.imports)
        return self._models

    @property
    def batchnorm(self) -> KindView:
        """Lazy: "does X contain BatchNormalization?" (shares the models index)."""
        if self._batchnorm is None:
            self._batchnorm = self.models.view("batchnorm")
        return self._batchnorm
