"""`get_config`: the built-in configuration (stbt.conf in this package) under the files named
by $STBT_CONFIG_FILE (colon-separated; each overrides those before it: the node runner passes the
test pack's .stbt.conf, the node's config/test-farm/<node>.conf and the job's tags)."""

import configparser
import enum
import os
import threading

from ._errors import ConfigurationError

_BUILTIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "stbt.conf")
_lock = threading.Lock()
_config = None


def _parser():
    global _config
    with _lock:
        if _config is None:
            config = configparser.ConfigParser(interpolation=None)
            files = [_BUILTIN] + [f for f in os.environ.get("STBT_CONFIG_FILE", "").split(":")
                                  if f]
            try:
                config.read(files, encoding="utf-8")
            except configparser.Error as e:
                raise ConfigurationError("cannot read the configuration: %s" % e) from None
            _config = config
        return _config


def _reset():
    """Forget what was read (tests that change $STBT_CONFIG_FILE)."""
    global _config
    with _lock:
        _config = None


def get_config(section, key, default=None, type_=str):
    """Read the value of ``key`` from ``section`` of the test-pack configuration.

    The built-in defaults are overridden by the test pack's ``.stbt.conf``, then by the node's
    ``config/test-farm/<node_id>.conf``; run-time tags are in section ``result.tags``.

    :param type_: ``str`` (the default), ``bool`` (1/yes/true/on or 0/no/false/off), an
        `enum.Enum` subclass (by name, any case, or by value) or any callable taking the string.
    :raises: `ConfigurationError` if the section or key is missing (unless ``default`` is given,
        which is then returned) or the value is not a valid ``type_``."""
    config = _parser()
    try:
        value = config.get(section, key)
    except configparser.Error:
        if default is None:
            raise ConfigurationError("no configuration value %s.%s" % (section, key)) from None
        return default
    try:
        if type_ is bool:
            return config.getboolean(section, key)
        if isinstance(type_, type) and issubclass(type_, enum.Enum):
            return _to_enum(type_, value, section, key)
        return type_(value)
    except ValueError:
        raise ConfigurationError("'%s.%s' invalid type (must be %s)" % (
            section, key, getattr(type_, "__name__", type_))) from None


def _to_enum(type_, value, section, key):
    try:
        return type_[value.strip().upper().replace("-", "_")]
    except KeyError:
        pass
    for v in (value.strip(), _int_or_none(value)):
        try:
            return type_(v)
        except ValueError:
            pass
    raise ConfigurationError('Invalid config value %s.%s="%s". Valid values are %s.' % (
        section, key, value, ", ".join(x.name for x in type_)))


def _int_or_none(value):
    try:
        return int(value)
    except ValueError:
        return None
