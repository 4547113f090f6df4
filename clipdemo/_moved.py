"""Old module names, while branches written against the flat layout are merged: each imports as its new module.

Installed first on `sys.meta_path` by `clipdemo/__init__.py`; the same module object answers to both names, so
monkeypatching either affects both. Removed once every reference uses the layered names.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types

MOVED = {
    'clipdemo.assets': 'clipdemo.core.assets',
    'clipdemo.cache': 'clipdemo.core.cache',
    'clipdemo.devices': 'clipdemo.core.devices',
    'clipdemo.errors': 'clipdemo.core.errors',
    'clipdemo.limits': 'clipdemo.core.limits',
    'clipdemo.settings': 'clipdemo.core.settings',
    'clipdemo.fingerprint': 'clipdemo.core.fingerprint',
    'clipdemo.images': 'clipdemo.core.images',
    'clipdemo.loading': 'clipdemo.core.loading',
    'clipdemo.registry': 'clipdemo.core.registry',
    'clipdemo.scoring': 'clipdemo.core.scoring',
    'clipdemo.search': 'clipdemo.core.search',
    'clipdemo.similarity': 'clipdemo.core.similarity',
    'clipdemo.spatial': 'clipdemo.core.spatial',
    'clipdemo.templates': 'clipdemo.core.templates',
    'clipdemo.zeroshot': 'clipdemo.core.zeroshot',
    'clipdemo.projection': 'clipdemo.core.projection',
    'clipdemo.vit_tower': 'clipdemo.core.vit_tower',
    'clipdemo.encoding': 'clipdemo.core.encoding',
    'clipdemo.toyworld': 'clipdemo.core.toyworld',
    'clipdemo.backends': 'clipdemo.core.backends',
    'clipdemo.backends.agreement': 'clipdemo.core.backends.agreement',
    'clipdemo.backends.openvino_backend': 'clipdemo.core.backends.openvino_backend',
    'clipdemo.backends.quantize': 'clipdemo.core.backends.quantize',
    'clipdemo.backends.torch_backend': 'clipdemo.core.backends.torch_backend',
    'clipdemo.gallery': 'clipdemo.data.gallery',
    'clipdemo.embedding_map': 'clipdemo.data.embedding_map',
    'clipdemo.collection': 'clipdemo.data.collection',
    'clipdemo.collection.atlas': 'clipdemo.data.collection.atlas',
    'clipdemo.collection.embed': 'clipdemo.data.collection.embed',
    'clipdemo.collection.layout': 'clipdemo.data.collection.layout',
    'clipdemo.collection.mapping': 'clipdemo.data.collection.mapping',
    'clipdemo.collection.ray_engine': 'clipdemo.data.collection.ray_engine',
    'clipdemo.collection.service': 'clipdemo.data.collection.service',
    'clipdemo.collection.sources': 'clipdemo.data.collection.sources',
    'clipdemo.collection.store': 'clipdemo.data.collection.store',
    'clipdemo.ood': 'clipdemo.teach.ood',
    'clipdemo.lessons': 'clipdemo.teach.lessons',
    'clipdemo.language_lesson': 'clipdemo.teach.language_lesson',
    'clipdemo.live_data': 'clipdemo.teach.live_data',
    'clipdemo.live_training': 'clipdemo.teach.live_training',
    'clipdemo.locked_image': 'clipdemo.teach.locked_image',
    'clipdemo.train': 'clipdemo.training.train',
    'clipdemo.tools.evaluate': 'clipdemo.training.evaluate',
    'clipdemo.tools.pointing': 'clipdemo.training.pointing',
    'clipdemo.tools.tokenizer_build': 'clipdemo.training.tokenizer_build',
    'clipdemo.service': 'clipdemo.serve.service',
    'clipdemo.exports': 'clipdemo.serve.exports',
    'clipdemo.cli': 'clipdemo.serve.cli',
    'clipdemo.download': 'clipdemo.serve.download',
    'clipdemo.collection.cli': 'clipdemo.serve.collection_cli',
    'clipdemo.tools.bench': 'clipdemo.bench.bench',
    'clipdemo.tools.bench_backends': 'clipdemo.bench.bench_backends',
    'clipdemo.tools.bench_learn': 'clipdemo.bench.bench_learn',
    'clipdemo.tools.bench_map': 'clipdemo.bench.bench_map',
    'clipdemo.tools.bench_table': 'clipdemo.bench.bench_table',
    'clipdemo.collection.bench': 'clipdemo.bench.collection_bench',
    'clipdemo.collection.synthetic': 'clipdemo.bench.synthetic',
    'clipdemo.overlay': 'clipdemo.ui.overlay',
    'clipdemo.locale_defaults': 'clipdemo.ui.locale_defaults',
}
GONE_PACKAGES = {"clipdemo.tools"}


class MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self):
        self.real_specs: dict = {}

    def find_spec(self, name, path=None, target=None):
        if name in MOVED:
            real = importlib.import_module(MOVED[name])
            return importlib.util.spec_from_loader(name, self, is_package=hasattr(real, "__path__"))
        if name in GONE_PACKAGES:
            return importlib.util.spec_from_loader(name, self, is_package=True)
        return None

    def create_module(self, spec):
        if spec.name in MOVED:
            real = importlib.import_module(MOVED[spec.name])
            self.real_specs[real.__name__] = real.__spec__  # the import system overwrites __spec__ next
            return real
        module = types.ModuleType(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        if module.__name__ in self.real_specs:
            module.__spec__ = self.real_specs[module.__name__]


def install() -> None:
    if not any(isinstance(f, MovedModuleFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, MovedModuleFinder())
