# The image of docker-compose.yml: the course's requirements and its code, nothing else.
FROM python:3.11-slim
WORKDIR /course
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
ENV PYTHONPATH=/course PYTHONUNBUFFERED=1
