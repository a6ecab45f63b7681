# The image of docker-compose.yml: the course's requirements and its code (.dockerignore says what goes in).
# PYTHON_IMAGE: another base with Python 3.11+ and pip (a local mirror, say): docker-compose.yml passes COURSE_PYTHON_IMAGE.
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE}
WORKDIR /course
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# Every kernel loads course_kernel.py: a NameError before a lesson's Setup has run says to run the cells from Setup.
RUN python3 -c "import pathlib, sys; p = pathlib.Path(sys.prefix, 'etc/ipython/ipython_kernel_config.py'); \
p.parent.mkdir(parents=True, exist_ok=True); p.write_text('c.InteractiveShellApp.extensions.append(\"course_kernel\")\n')"
# The learner's folders are mounted over the first two; .course/ is what the services write for themselves.
# docker/entrypoint.py runs every service as the owner of the learner's folders (see there).
RUN mkdir -p my-notebooks notebooks/playground .course/home && chmod -R 1777 .course
ENV PYTHONPATH=/course PYTHONUNBUFFERED=1 HOME=/course/.course/home
ENTRYPOINT ["python3", "/course/docker/entrypoint.py"]
