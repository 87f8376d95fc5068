"""Facts about a torch model read from its module tree, so that the limits an
assignment states (which layer types, how many hidden units, how many parameters)
are checked from the model itself, never from what the student says about it.

The sandbox calls ``parameter_count`` and ``layers`` on the student's model and
records their JSON-able results; the judge calls ``hidden_units``, ``forbidden``,
``describe`` and ``summary`` on what came back (plain lists and dicts, no torch needed).

Nothing here runs the model or draws random numbers: only the tree of modules
and the parameters' sizes are read, so recording these facts changes nothing
that a later step sees.

Which modules are layers (see ``layers``): the containers (Sequential, ModuleList,
ModuleDict) only group layers and are looked through. The root is the student's
model: it is looked through when it is a container or a class of their own. Below
the root, a module of the student's own class (a block) is one layer, listed as it
is and not looked into: whether such blocks are allowed is the judge's decision.
What the tree cannot show: parameters the root holds itself (``self.W =
nn.Parameter(...)``) belong to no layer, and functional calls in ``forward``
(``F.conv2d``) are no modules at all; ``parameter_count`` still counts the former.
"""

from __future__ import annotations

from grader.core.source import StepFailure

# torch.nn classes recorded with their sizes, by name (looked up lazily, so that
# importing this module needs no torch).
LINEAR_TYPES = ("Linear",)
CONV_TYPES = ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
              "ConvTranspose3d")
DROPOUT_TYPES = ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                 "FeatureAlphaDropout")
CONTAINER_TYPES = ("Sequential", "ModuleList", "ModuleDict")
# torch.nn's activation modules (torch/nn/modules/activation.py), by name: the judge
# reads them off the recorded layers, without torch.
ACTIVATION_TYPES = ("Threshold", "ReLU", "RReLU", "Hardtanh", "ReLU6", "Sigmoid",
                    "Hardsigmoid", "Tanh", "SiLU", "Mish", "Hardswish", "ELU", "CELU", "SELU",
                    "GLU", "GELU", "Hardshrink", "LeakyReLU", "LogSigmoid", "Softplus",
                    "Softshrink", "PReLU", "Softsign", "Tanhshrink", "Softmin", "Softmax",
                    "Softmax2d", "LogSoftmax")


# ---------------------------------------------------------------- sandbox side


def parameter_count(model) -> int:
    """The number of numbers in ``model.parameters()``, as the usual sample code
    counts it (``sum(p.numel() for p in model.parameters())``; a parameter shared by
    two layers is one parameter, as ``parameters()`` yields it once).

    Raises StepFailure when a lazy layer (LazyLinear, ...) has not got its sizes yet:
    its size is unknown until a first forward pass, which this must not run.
    """
    try:
        return int(sum(parameter.numel() for parameter in model.parameters()))
    except ValueError as error:
        if "uninitialized parameter" not in str(error).lower():
            raise
        raise StepFailure("lazy", "the model has a lazy layer (e.g. LazyLinear) whose size is "
                                  "only fixed by its first forward pass, so its parameters "
                                  "cannot be counted; give the layer its input size (e.g. "
                                  "Linear(784, 100) instead of LazyLinear(100))") from None


def layers(model) -> list[dict]:
    """The model's layers, in the order they were registered (``named_modules``
    order), one JSON-able dict each.

    Keys: ``name`` (qualified name, e.g. 'features.2'; '' for the root when the root
    is itself the only layer), ``type`` (class name), ``parameters`` (its parameter
    count, children included), ``custom`` (True for a class not defined in torch.nn,
    e.g. the student's own block); a Linear (or a subclass) adds ``in_features`` and
    ``out_features``; a convolution ``in_channels``, ``out_channels`` and
    ``kernel_size`` (a list); a dropout ``p``. Containers are looked through and not
    listed; so is a custom root; a custom module below the root is listed and not
    looked into (see the module's docstring). A module registered twice is listed
    once, under the name it was first reached by.
    """
    import torch
    containers = _classes(torch.nn, CONTAINER_TYPES)
    found: list[dict] = []
    seen: set[int] = set()

    def visit(module, name: str, is_root: bool) -> None:
        if id(module) in seen:
            return
        seen.add(id(module))
        if isinstance(module, containers) or (is_root and _is_custom(module)):
            for child_name, child in module.named_children():
                visit(child, f"{name}.{child_name}" if name else child_name, False)
        else:
            found.append(_entry(torch, module, name))

    visit(model, "", True)
    return found


def _entry(torch, module, name: str) -> dict:
    entry = {"name": name, "type": type(module).__name__,
             "parameters": parameter_count(module), "custom": _is_custom(module)}
    if isinstance(module, _classes(torch.nn, LINEAR_TYPES)):
        entry.update(in_features=int(module.in_features), out_features=int(module.out_features))
    elif isinstance(module, _classes(torch.nn, CONV_TYPES)):
        entry.update(in_channels=int(module.in_channels), out_channels=int(module.out_channels),
                     kernel_size=[int(side) for side in module.kernel_size])
    elif isinstance(module, _classes(torch.nn, DROPOUT_TYPES)):
        entry["p"] = float(module.p)
    return entry


def _is_custom(module) -> bool:
    """Whether ``module``'s class is anything but torch.nn's own class of that name
    (its identity, not its name or ``__module__``, which a class can borrow)."""
    import torch
    return getattr(torch.nn, type(module).__name__, None) is not type(module)


def _classes(namespace, names: tuple[str, ...]) -> tuple[type, ...]:
    # getattr with a default: an older torch may lack a class (e.g. Dropout1d).
    return tuple(cls for cls in (getattr(namespace, n, None) for n in names) if cls is not None)


# ------------------------------------------------------------------ judge side


def hidden_units(layer_list: list[dict]) -> list[int]:
    """The ``out_features`` of every Linear entry of ``layers`` but the last: the
    output sizes of the hidden layers, as a 'hidden units' budget counts them
    (e.g. [100] for Linear(784, 100), ReLU, Linear(100, 10))."""
    sizes = [entry["out_features"] for entry in _entries(layer_list)
             if isinstance(entry.get("out_features"), int)]
    return sizes[:-1]


def forbidden(layer_list: list[dict], allowed_types: set[str],
              allow_custom: bool = False) -> list[str]:
    """One short description per layer the limits do not allow, in the order of
    ``layers``: a torch.nn layer whose class name is not in ``allowed_types`` (e.g.
    {'Linear', 'ReLU'}), and, unless ``allow_custom``, every module of the student's
    own class, whatever its name (a class of their own called ``Linear`` is not
    torch's). E.g. 'layer 0 (Conv1d)' or 'features.2 (MyBlock, a module of your own)'."""
    described = []
    for entry in _entries(layer_list):
        kind = str(entry.get("type", "?"))
        custom = entry.get("custom") is not False
        if allow_custom if custom else kind in allowed_types:
            continue
        own = ", a module of your own" if custom else ""
        described.append(f"{_where(entry)} ({kind}{own})")
    return described


def describe(layer: dict) -> str:
    """A layer entry as a student would write it: 'Linear(784, 100)', 'Conv2d(1, 8,
    kernel 3x3)', 'Dropout(p=0.5)', 'ReLU'."""
    kind = str(layer.get("type", "?"))
    if "out_features" in layer:
        return f"{kind}({layer.get('in_features')}, {layer.get('out_features')})"
    if "out_channels" in layer:
        kernel = "x".join(str(side) for side in layer.get("kernel_size") or [])
        return f"{kind}({layer.get('in_channels')}, {layer.get('out_channels')}, kernel {kernel})"
    if "p" in layer:
        return f"{kind}(p={layer['p']:g})" if isinstance(layer["p"], (int, float)) else kind
    return kind


def summary(layer_list: list[dict]) -> str:
    """The layers as ``describe`` writes them, comma-separated ('no layers' for none).
    When the model has Linear or convolution layers but no activation module, it says
    so: its activations, if any, are calls in ``forward`` (F.relu, torch.relu) that the
    tree cannot show. A module of the student's own class may hold activations, so
    nothing is said when the tree has one."""
    entries = _entries(layer_list)
    shown = ", ".join(describe(entry) for entry in entries) or "no layers"
    weighted = any("out_features" in entry or "out_channels" in entry for entry in entries)
    if weighted and all(entry.get("custom") is False
                        and entry.get("type") not in ACTIVATION_TYPES for entry in entries):
        shown += " (no activation modules: activations, if any, are applied in forward)"
    return shown


def _where(entry: dict) -> str:
    """How a student finds the layer: a Sequential's index as 'layer 2', an
    attribute path as it is, the root as 'the model'."""
    name = str(entry.get("name", ""))
    if not name:
        return "the model"
    return f"layer {name}" if name.isdigit() else name


def _entries(layer_list) -> list[dict]:
    # The list came back from the sandbox: keep to the dicts in it.
    return [entry for entry in layer_list or [] if isinstance(entry, dict)]
