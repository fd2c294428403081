import { render } from "preact";
import { Root } from "./app";
import "./styles.css";

render(<Root />, document.getElementById("app")!);
