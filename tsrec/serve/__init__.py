"""Serving (appendix B, chapter 4.3): what the service accepts (``ids``), a model with its id maps (``model``),
the durable event log (``log``), what the service keeps in memory (``state``), the FastAPI app (``app``), and
``tsrec serve`` run as a child process (``process``)."""
from tsrec.serve.app import EventIn, Rejected, Service, create_app, run, scorer
from tsrec.serve.ids import InvalidInput, parse_id, parse_time
from tsrec.serve.log import EventLog
from tsrec.serve.model import ServedModel, as_served, load_model, save_model
from tsrec.serve.process import ServerProcess, free_port
from tsrec.serve.state import Latency, LiveState

__all__ = ["EventIn", "EventLog", "Latency", "LiveState", "Rejected", "ServedModel", "ServerProcess", "Service",
           "as_served", "create_app", "free_port", "load_model", "parse_id", "parse_time", "InvalidInput", "run",
           "save_model", "scorer"]
