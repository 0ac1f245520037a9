"""A job's configuration is one frozen dataclass; its command line is built from it.

Each field is declared with ``option(kind, help, ...)``.  The *kind* (``Integer``,
``Real``, ``Choice``, ``Sizes``, ``Text``, ``Switch``) is the one place where a
value is validated: it parses the command-line text, and it checks every value
a configuration is built with -- from the command line, from a run folder's
``config.json`` or through ``replace`` -- in ``Config.__post_init__``.  So a
corrupt ``config.json`` is reported exactly like a bad option.

    @dataclasses.dataclass(frozen=True)
    class MyJob(Config):
        epochs: int | None = option(Integer(1), "passes over the data", group="training")
        seed: int = option(Integer(0), "random seed", default=0, group="training")

    cfg, given = MyJob.from_command_line(["--epochs", "3"])   # given == {"epochs"}
    MyJob.from_dict(json.loads(text), source="run/config.json")

Fields default to None, which means "unset: the job decides" (e.g. the
model's preset); ``given`` tells which options the command line named.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
from typing import Any

from autograd_apps.common.errors import UsageError

__all__ = ["Kind", "Integer", "Real", "Choice", "Sizes", "Text", "Switch", "option", "Config",
           "OneLineArgumentParser", "flag_name"]


# ---------------------------------------------------------------------------
# Kinds of values
# ---------------------------------------------------------------------------

class Kind:
    """How one option is written on the command line and which values it takes.

    ``parse(text)`` turns command-line text into a value; ``check(value)``
    accepts a value (also one read back from JSON) and returns it in its
    canonical form.  Both raise ``ValueError`` with a message that says what
    was expected and what was given.
    """

    metavar = None

    def parse(self, text):
        return self.check(text)

    def check(self, value):
        raise NotImplementedError

    def to_json(self, value):
        """The value as JSON writes it (tuples become lists)."""
        return value


class _Number(Kind):
    """A number written in decimal: ``convert`` (int or float), then ``check``."""

    convert = staticmethod(float)
    expected = "a number"

    def parse(self, text):
        try:
            value = self.convert(text)
        except ValueError:
            raise ValueError(f"expected {self.expected}, got {text!r}") from None
        return self.check(value)


class Integer(_Number):
    """An int >= ``minimum``: ``Integer(1)`` is "a positive integer".

    Example: ``Integer(0).parse("3") == 3``.
    """

    metavar = "N"
    convert = staticmethod(int)

    def __init__(self, minimum=1):
        self.minimum = minimum
        self.expected = ("a positive integer" if minimum == 1
                         else f"an integer >= {minimum}")

    def check(self, value):
        if isinstance(value, bool) or not isinstance(value, int) or value < self.minimum:
            raise ValueError(f"expected {self.expected}, got {value!r}")
        return value


class Real(_Number):
    """A finite float: ``Real()`` > 0, ``Real(allow_zero=True)`` >= 0,
    ``Real(allow_zero=True, below=1)`` in [0, 1) (a probability).

    Example: ``Real().parse("0.5") == 0.5``; ``Real().parse("-1")`` raises.
    """

    metavar = "X"

    def __init__(self, allow_zero=False, below=None):
        self.allow_zero, self.below = allow_zero, below
        if below is not None:
            self.expected = f"a probability in [0, {below:g})" if allow_zero and below == 1 \
                else f"a number in {'[' if allow_zero else '('}0, {below:g})"
        else:
            self.expected = "a number >= 0" if allow_zero else "a positive number"

    def check(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected {self.expected}, got {value!r}")
        value = float(value)
        ok = math.isfinite(value) and (value >= 0 if self.allow_zero else value > 0)
        if ok and self.below is not None:
            ok = value < self.below
        if not ok:
            raise ValueError(f"expected {self.expected}, got {value:g}")
        return value


class Choice(Kind):
    """One of a fixed set of names (argparse lists them in ``--help``).

    Example: ``Choice(("sgd", "adam")).check("adam") == "adam"``.
    """

    def __init__(self, choices):
        self.choices = tuple(choices)

    def check(self, value):
        if value not in self.choices:
            raise ValueError(f"expected one of {', '.join(self.choices)}, got {value!r}")
        return value


class Sizes(Kind):
    """Comma-separated positive integers such as ``512,256``; ``none`` or an
    empty string is the empty tuple.

    Example: ``Sizes().parse("512,256") == (512, 256)``; stored as ``[512, 256]``.
    """

    metavar = "N,N,..."

    def parse(self, text):
        text = text.strip()
        if text in ("", "none"):
            return ()
        try:
            values = tuple(int(v) for v in text.split(","))
        except ValueError:
            raise ValueError("expected comma-separated positive integers such as 512,256, "
                             f"got {text!r}") from None
        if any(v < 1 for v in values):
            raise ValueError(f"sizes must be positive, got {text!r}")
        return values

    def check(self, value):
        if not isinstance(value, (list, tuple)) or any(
                isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in value):
            raise ValueError(f"expected a list of positive integers, got {value!r}")
        return tuple(value)

    def to_json(self, value):
        return list(value)


class Text(Kind):
    """A string, e.g. a path.

    Example: ``Text().check("runs/a") == "runs/a"``.
    """

    metavar = "DIR"

    def check(self, value):
        if not isinstance(value, str):
            raise ValueError(f"expected a string, got {value!r}")
        return value


class Switch(Kind):
    """A bool set by a bare flag: ``--graph``, or ``--no-graph`` with ``negative=True``.

    Example: ``option(Switch(negative=True), "no plots", default=True)`` on field
    ``plots`` gives ``--no-plots``.
    """

    def __init__(self, negative=False):
        self.negative = negative

    def check(self, value):
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        return value


# ---------------------------------------------------------------------------
# Fields
# ---------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class _Option:
    kind: Kind
    help: str
    group: str
    fixed: bool
    stored: bool
    optional: bool
    metavar: str | None
    argparse: dict


def option(kind, help, *, default=None, group="options", fixed=False, stored=True,
           optional=False, metavar=None, **argparse_extra):
    """A dataclass field that is also a command-line option.

    kind: the ``Kind`` that parses and validates its values.  help: the
    ``--help`` text.  default: the value when the command line leaves it
    unset (None: the job fills it in).  group: the ``--help`` section.
    fixed: part of what defines a run's trajectory, so it cannot change when
    a run is resumed.  stored: written to the run's ``config.json`` (False
    for options about this invocation only, such as ``--resume``).
    optional: None is a valid final value (e.g. "no limit").  Other keywords
    go to ``argparse.add_argument`` (e.g. ``nargs``, ``const``).

    Example: ``lr: float | None = option(Real(), "learning rate", fixed=True)``.
    """
    meta = _Option(kind, help, group, fixed, stored, optional, metavar, argparse_extra)
    return dataclasses.field(default=default, metadata={"option": meta})


def flag_name(name):
    """The command-line spelling of field `name`: ``batch_size`` -> ``--batch-size``."""
    return "--" + name.replace("_", "-")


class OneLineArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad command line gets one line, ``prog: error: ...``,
    and exit status 2 (no usage block: ``--help`` has it)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


@dataclasses.dataclass(frozen=True)
class Config:
    """Base of a job's configuration dataclass (subclass it with ``frozen=True``).

    Every field declared with ``option`` is validated by its kind on
    construction; a bad value raises ``UsageError`` naming the option.
    Class attribute ``GROUPS`` orders the sections of ``--help``.
    """

    GROUPS = ()

    def __post_init__(self):
        for f, opt in self.options():
            value = getattr(self, f.name)
            if value is None:
                continue
            try:
                value = opt.kind.check(value)
            except ValueError as exc:
                raise UsageError(f"{flag_name(f.name)}: {exc}") from None
            object.__setattr__(self, f.name, value)

    # ---- fields ------------------------------------------------------------
    @classmethod
    def options(cls):
        """(dataclass field, option metadata) of every option, in declaration order."""
        return [(f, f.metadata["option"]) for f in dataclasses.fields(cls)
                if "option" in f.metadata]

    @classmethod
    def fixed_names(cls):
        """Names of the options that define a run's trajectory."""
        return tuple(f.name for f, opt in cls.options() if opt.fixed)

    # ---- the command line ----------------------------------------------------
    @classmethod
    def build_parser(cls, prog, description=None, epilog=None):
        """An argparse parser with one option per field, grouped by ``group``.

        Every option's argparse default is None, so that ``from_command_line``
        can tell which options were given.
        """
        parser = OneLineArgumentParser(prog=prog, description=description, epilog=epilog)
        groups = {}
        names = list(cls.GROUPS) + [opt.group for _, opt in cls.options()]
        for name in dict.fromkeys(names):
            groups[name] = parser.add_argument_group(name)
        order = list(groups)
        for f, opt in sorted(cls.options(), key=lambda fo: order.index(fo[1].group)):
            kw = dict(dest=f.name, default=None, help=opt.help)
            kind = opt.kind
            if isinstance(kind, Switch):
                flag = f"--no-{f.name.replace('_', '-')}" if kind.negative else flag_name(f.name)
                kw.update(action="store_const", const=not kind.negative)
            else:
                flag = flag_name(f.name)
                if isinstance(kind, Choice):      # argparse: "invalid choice: ..."
                    kw["choices"] = kind.choices
                else:
                    kw.update(type=_argparse_type(kind), metavar=opt.metavar or kind.metavar)
            kw.update(opt.argparse)
            groups[opt.group].add_argument(flag, **kw)
        return parser

    @classmethod
    def from_namespace(cls, namespace):
        """(config, given): the options set in an argparse namespace, the rest default."""
        given = {f.name: getattr(namespace, f.name) for f, _ in cls.options()
                 if getattr(namespace, f.name, None) is not None}
        return cls(**given), frozenset(given)

    @classmethod
    def from_command_line(cls, argv, prog="prog"):
        """Parse `argv` (a list of strings); exits with status 2 on a bad option."""
        return cls.from_namespace(cls.build_parser(prog).parse_args(argv))

    # ---- JSON ------------------------------------------------------------------
    def to_dict(self):
        """The stored options as JSON values (``config.json``, checkpoints)."""
        return {f.name: (None if getattr(self, f.name) is None
                         else opt.kind.to_json(getattr(self, f.name)))
                for f, opt in self.options() if opt.stored}

    @classmethod
    def from_dict(cls, doc, source, **unstored):
        """The configuration stored in `doc` (as ``to_dict`` wrote it), validated.

        Unknown, missing, ill-typed or unset settings raise ``UsageError``
        naming `source` (e.g. the file).  `unstored` gives values for the
        options that are not stored.
        """
        if not isinstance(doc, dict):
            raise UsageError(f"{source}: not a configuration (expected a JSON object, "
                             f"got {type(doc).__name__})")
        stored = {f.name for f, opt in cls.options() if opt.stored}
        unknown = sorted(set(doc) - stored)
        missing = sorted(stored - set(doc))
        if unknown:
            raise UsageError(f"{source}: unknown setting(s) {', '.join(unknown)}")
        if missing:
            raise UsageError(f"{source}: missing setting(s) {', '.join(missing)}")
        try:
            cfg = cls(**doc, **unstored)
        except UsageError as exc:
            raise UsageError(f"{source}: {exc}") from None
        cfg.require_complete(source)
        return cfg

    def require_complete(self, source):
        """Raise ``UsageError`` if an option that must have a value is unset."""
        unset = [f.name for f, opt in self.options()
                 if opt.stored and not opt.optional and getattr(self, f.name) is None]
        if unset:
            raise UsageError(f"{source}: no value for {', '.join(unset)}")

    def replace(self, **changes: Any):
        """A copy with `changes`, validated like any configuration."""
        return dataclasses.replace(self, **changes)


def _argparse_type(kind):
    def convert(text):
        try:
            return kind.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    convert.__name__ = type(kind).__name__.lower()
    return convert
